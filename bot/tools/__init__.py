"""Tools that measure the product rather than run it: `article-qa bench` (benchmark, corpus_bench),
`article-qa eval` (evaluate) and the helpers they share (measure)."""
