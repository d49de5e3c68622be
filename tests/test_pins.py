"""Fast tier: the editor's corrections — matched by the question's meaning within their article,
kept across restarts, gone with their article, undone."""
import numpy as np

from bot.insights.pins import Pins


def test_a_correction_applies_to_questions_that_mean_the_same_about_its_article_only(tmp_path):
    pins = Pins(tmp_path / "pins.sqlite3", similarity=0.9)
    asked = np.array([1.0, 0.2, 0.0])
    pin_id = pins.add("lanshan", "岚山区委书记是谁", asked, "对此,岚山区委书记焦春锋表示……")
    assert pins.holds("lanshan") and not pins.holds("paris")
    assert pins.match("lanshan", np.array([1.0, 0.25, 0.05])).id == pin_id   # reworded
    assert pins.match("lanshan", np.array([0.0, 0.0, 1.0])) is None           # another question
    assert pins.match("paris", asked) is None                                 # another article
    missing = pins.add("lanshan", "岚山GDP多少", np.array([0.0, 1.0, 0.0]), None)
    again = Pins(tmp_path / "pins.sqlite3", similarity=0.9)   # a restart
    assert again.match("lanshan", np.array([0.0, 1.0, 0.1])).sentence is None
    assert [p.id for p in again.listed()] == [pin_id, missing]
    assert again.remove(missing) and not again.remove(missing)
    again.forget_article("lanshan")
    assert again.listed() == [] and not again.holds("lanshan")
    assert (tmp_path / "pins.sqlite3").stat().st_mode & 0o777 == 0o600
