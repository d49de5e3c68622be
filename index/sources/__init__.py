"""Where articles come from: a file or a page fetched (fetch.py, only public addresses), its bytes
decoded (decode.py), its format read into text (load.py: text, Markdown, HTML, .docx, PDF), that
text parsed into title, metadata, sections and sentences (article.py), and an untrusted source
parsed in a child process under time and memory limits (isolated.py)."""
