"""Durations as a teacher reads them aloud ("2 min 22 s"), for progress lines and tables."""


def duration_text(seconds):
    """142.0 -> "2 min 22 s": durations and ETAs as a teacher reads them aloud."""
    if seconds is None:
        return "-"
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
