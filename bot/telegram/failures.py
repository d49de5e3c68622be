"""What an admin reads, in Chinese, when an article could not be added or removed.

The index's messages are English, for the terminal and its logs (index/sources/, bot/runtime.py).
An admin on a phone gets each known one in Chinese, naming the file or link as they sent it (never
a path on the server); an unknown one keeps its English text, without server paths, after a
Chinese line that says nothing was changed."""
from __future__ import annotations

import re

# (the English message's pattern, the Chinese line; {what} is the file or link as sent, {1}… the groups)
_KNOWN = tuple((re.compile(pattern), chinese) for pattern, chinese in (
    (r"user name or password", "链接里带有用户名或密码，没有添加：请发送公开的链接。"),
    (r"is not a text article|binary data, not text|not text in UTF-8", "{what} 不是文字文件（读不出文字），没有添加。"),
    (r"unsupported kind of file", "{what} 的文件类型不支持，没有添加。请发送 .txt、.md、.html、.docx、.pdf 文件或网页链接。"),
    (r"no article text found on the page|holds no article text", "{what} 里没有找到文章正文，没有添加。"),
    (r"the server answered (\d+)", "打开链接时网站返回了错误 {1}，没有添加：{what}"),
    (r"no such host", "找不到这个网站，没有添加，请检查链接：{what}"),
    (r"is a private or local address", "这个链接指向内网或本机地址，按设置不能读取：{what}"),
    (r"more than \d+ redirects", "这个链接跳转次数太多，没有添加：{what}"),
    (r"took longer than [\d.]+ s\)?$|the fetch took too long", "下载 {what} 超时，没有添加，请稍后再试。"),
    (r"cannot be fetched", "{what} 打不开（网络错误），没有添加，请稍后再试。"),
    (r"parsing took longer than", "{what} 解析超时，没有添加。"),
    (r"parsing needed more than (\d+) MB", "{what} 解析需要的内存超过 {1} MB 的上限，没有添加。"),
    (r"is larger than (\d+) MB", "{what} 太大（超过 {1} MB），没有添加。"),
    (r"inflates to (\d+) MB", "{what} 解压后有 {1} MB，超过上限，没有添加。"),
    (r"has (\d+) pages, more than the limit of (\d+)", "{what} 有 {1} 页，超过 {2} 页的上限，没有添加。"),
    (r"(\d+) sentences, more than the limit of (\d+)", "{what} 有 {1} 句，超过 {2} 句的上限，没有添加。"),
    (r"password-protected", "{what} 有密码保护，没有添加：请发送未加密的文件。"),
    (r"has no text layer", "{what} 是扫描件（没有文字层），读不出文字，没有添加：请发送带文字的 PDF 或文章文本。"),
    (r"is not a readable (?:web page|\.docx file|PDF)", "{what} 读不出来（文件可能已损坏），没有添加。"),
    (r"could not be parsed", "{what} 解析失败，没有添加。"),
    (r"^no article (.+) in ", "没有编号为 {1} 的文章，什么也没有删除。发 /articles 查看编号。"),
    (r"removing every article would leave an empty index", "这是最后一篇文章，删除后就没有可回答的文章了，所以没有删除。"),
    (r"the bot is stopping", "机器人正在停止，没有完成：重启后请再发一次。"),
))
# A server path in an unknown message: the admin sees the file's name, not where it lies. A web
# address keeps its own path.
_SERVER_PATH = re.compile(r"(?<![\w:/.])(?:/[^/\s:'\"]+)+/(?=[^/\s]+)")


def in_chinese(message: str, what: str) -> str:
    """The admin's line for a failed change: `message` is the index's English one, `what` the
    file name or link the admin sent."""
    for pattern, chinese in _KNOWN:
        found = pattern.search(message)
        if found:
            return chinese.format(None, *found.groups(), what=what)
    return f"没有完成，什么也没有改动：{_SERVER_PATH.sub('', message)}"
