"""Durations read aloud."""


from cifar_core.display import text


def test_durations_read_aloud():
    assert text.duration_text(None) == "-" and text.duration_text(9.6) == "10 s"
    assert text.duration_text(142) == "2 min 22 s"
    assert text.duration_text(3725) == "1 h 02 min"
