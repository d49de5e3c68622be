"""Fast tier: the spoken register read in written words (bot/chat/spoken.py)."""
import pytest

from bot.chat import spoken


@pytest.mark.parametrize("asked, reads", [
    ("他以前干啥的", "他以前做什么的"),
    ("总共发了多少钱啊", "总共发了多少元"),
    ("啥时候开始啊", "什么时候开始"),
    ("他妈妈老家哪的", "他妈妈家乡哪里"),
    ("陈某多大岁数", "陈某多少岁"),
    ("为啥要搞这个表彰", "为什么要做这个表彰"),
    ("凭啥算得那么快", "为什么算得那么快"),
    ("这是头一回吧", "这是首次吧"),
    ("一年办几回", "一年办几次"),
    ("上好高中的有几个娃", "上好高中的有几个孩子"),
    ("上面能买衣服不", "上面能买衣服吗"),
    ("问下哈，那个小男孩多大了", "那个小男孩多少岁"),
    ("它这么干图个啥", "它这么干目的是什么"),
    ("这东西有啥用", "这东西有什么作用"),
    ("两口子咋认识的", "夫妻怎么认识的"),
])
def test_spoken_words_read_as_written_ones(asked, reads):
    assert spoken.written(asked) == reads


@pytest.mark.parametrize("written", ["岚山区委书记是谁？", "哈尔滨冰雪节什么时候开始", "整个项目投资多少",
                                     "不少人参加了吗", "调整后的目标是多少"])
def test_written_questions_are_left_as_they_are(written):
    assert spoken.written(written) == written and not spoken.is_spoken(written)
