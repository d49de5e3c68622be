"""What readers asked: every question recorded without who asked it in clear (record.py), and the
editor's report over those records — what was answered, what readers wanted and did not find,
grouped by meaning, which passages are read (report.py)."""
