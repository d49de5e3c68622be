"""The language layer every stage reads: Chinese text normalised (Simplified and Traditional
folded, full-width forms), jieba's words and their weights, and the kinds of answer a sentence
holds (a date, an amount, a person…). It imports nothing else of the project."""
