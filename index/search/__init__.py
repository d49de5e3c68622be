"""Finding the passage that answers: candidates from the archive scored on dense and keyword
features, ranked by a small fitted network, and a second network deciding whether to answer at
all (retrieve.py; the fits, per model, in fusion*.json)."""
