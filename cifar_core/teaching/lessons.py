"""Lessons: Markdown files that walk a class through the app, one step (and view) at a time.

A lesson is a file in the lessons folder (``lessons/`` of the project, or
``$CIFAR_LESSONS_DIR``), e.g. ``01-pixels.md``; its key, ``pixels``, is the file name
without the number that orders the lessons. The file starts with a front matter block::

    ---
    title: Pixels and normalisation
    level: beginner
    duration: 12 min
    ---

then an optional introduction, then its steps: each step starts with a ``## Title`` line,
names at most one live view of the app in a ``View: layers?model=seed&index=7`` line,
and has Markdown text for the teacher to read or project.

Reading never raises for a lesson's content: ``load_lessons`` returns the lessons that
can be shown and, separately, every problem found (the file, the step, the reason), so one
teacher's typo is reported on the Lessons page while the other lessons still work. A file
with unreadable front matter or no steps is left out; a step with a bad link is kept, and
shows its problem instead of the link.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from cifar_core import storage
from cifar_core.teaching import views

#: The environment variable that points the app at another lessons folder (tests use it).
LESSONS_DIR_VARIABLE = "CIFAR_LESSONS_DIR"
#: Front matter fields every lesson must have.
REQUIRED_FIELDS = ("title", "level", "duration")
#: A lesson longer than this is not a lesson (and is not read into memory).
MAX_LESSON_BYTES = 256 * 1024
#: Files in the lessons folder that describe the format instead of being lessons.
NOT_LESSONS = {"readme.md"}

_ORDER_PREFIX = re.compile(r"^\d+[-_]")  # "01-pixels" -> key "pixels"
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")  # keys go into URLs: ?lesson=pixels (fullmatch)
_FIELD = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")
_DURATION = re.compile(r"^\d+(\s*[-–]\s*\d+)?\s*(min|mins|minutes)?$", re.IGNORECASE)
_STEP_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_VIEW_LINE = re.compile(r"^view\s*:\s*(.*)$", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Step:
    """One step: ``number`` counts from 1 (as in the URL); ``view`` is None without a
    link or when the link is unusable (``problems`` of the lesson say why)."""

    number: int
    title: str
    text: str
    view: views.View | None = None


@dataclass(frozen=True)
class Lesson:
    """One lesson file: its key (for ``?lesson=``), front matter, introduction and steps."""

    key: str
    path: Path
    title: str
    level: str
    duration: str
    introduction: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Problem:
    """What is wrong in a lesson file: ``step`` is the step's number, None for the file;
    ``link`` the step's view link where the reason is about it."""

    file: str
    reason: str
    step: int | None = None
    step_title: str = ""
    link: str = ""

    def __str__(self):
        where = self.file
        if self.step is not None:
            where += f", step {self.step}" + (f" ({self.step_title})" if self.step_title else "")
        if self.link:
            where += f", link {self.link!r}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class LessonLibrary:
    """The lessons that can be shown, in order, and every problem found in the folder."""

    lessons: tuple[Lesson, ...]
    problems: tuple[Problem, ...]

    def get(self, key):
        """The lesson with ``key``, or None."""
        return next((lesson for lesson in self.lessons if lesson.key == key), None)

    def problems_of(self, lesson):
        """The problems found in ``lesson``'s file."""
        return [problem for problem in self.problems if problem.file == lesson.path.name]


class LessonError(ValueError):
    """A lesson file that cannot be shown at all; the message says why (and on which line)."""


def lessons_dir():
    """Where lessons live: ``$CIFAR_LESSONS_DIR`` or the project's ``lessons/`` folder."""
    return Path(os.environ.get(LESSONS_DIR_VARIABLE) or storage.PROJECT_ROOT / "lessons")


def lesson_key(path):
    """The key of a lesson file: its name without suffix and order number, lower case."""
    return _ORDER_PREFIX.sub("", Path(path).stem).lower()


def parse_front_matter(text):
    """(fields, body) of a lesson's text; LessonError if the front matter is malformed.

    The front matter is a block of ``key: value`` lines between two ``---`` lines at the
    very start. Every field of ``REQUIRED_FIELDS`` must be there with a value; the
    duration must read as minutes ("12 min", "10-15 minutes"). Other fields are kept.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise LessonError("no front matter: the file must start with a '---' line, then "
                          "title, level and duration, then another '---' line")
    try:
        end = next(number for number, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise LessonError("the front matter is not closed: add a '---' line after it") from None
    fields = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _FIELD.match(line.strip())
        if match is None:
            raise LessonError(f"front matter line {number} is not 'key: value': {line!r}")
        name, value = match.group(1).lower(), match.group(2).strip().strip("\"'")
        if name in fields:
            raise LessonError(f"front matter line {number} gives {name!r} a second time")
        fields[name] = value
    missing = [name for name in REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        found = f" (it has: {', '.join(fields)})" if fields else ""
        raise LessonError(f"the front matter lacks {', '.join(missing)}{found}")
    if not _DURATION.match(fields["duration"]):
        raise LessonError(f"duration {fields['duration']!r} is not in minutes, e.g. '12 min' "
                          "or '10-15 min'")
    return fields, "\n".join(lines[end + 1:])


def split_steps(body):
    """(introduction, [(title, lines)]) of a lesson body: each ``## `` heading starts a step.

    Headings inside fenced code blocks do not count; ``###`` headings belong to the step.
    """
    introduction, steps, fenced = [], [], False
    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _STEP_HEADING.match(line)
        if heading is not None:
            steps.append((heading.group(1), []))
        elif steps:
            steps[-1][1].append(line)
        else:
            introduction.append(line)
    return "\n".join(introduction).strip(), steps


def _step(number, title, lines, file, facts):
    """(Step, [Problem]) from a step's title and lines: finds and checks its view."""
    problems = []

    def problem(reason, link=""):
        problems.append(Problem(file, reason, number, title, link))

    view_lines = [(index, match.group(1).strip()) for index, line in enumerate(lines)
                  if (match := _VIEW_LINE.match(line.strip()))]
    text = "\n".join(line for index, line in enumerate(lines)
                     if index not in {position for position, _ in view_lines}).strip()
    if not title:
        problem("the step has no title after '##'")
    if not text:
        problem("the step has no text for the teacher")
    if len(view_lines) > 1:
        problem(f"the step names {len(view_lines)} views; give it one 'View:' line")
    view = None
    if view_lines:
        try:
            view = views.parse_view(view_lines[0][1])
        except ValueError as error:
            problem(f"not a view link: {error}")
        else:
            reasons = views.check_view(view, facts) if facts is not None else []
            for reason in reasons:
                problem(reason, view_lines[0][1])
            view = None if reasons else view
    return Step(number, title, text, view), problems


def parse_lesson(text, path, facts=None):
    """(Lesson, [Problem]) from a lesson file's text; LessonError if it cannot be shown.

    ``facts`` (``views.app_facts()``) are what each step's link is checked against; None
    skips the checks. Problems of single steps leave the lesson usable.
    """
    path = Path(path)
    fields, body = parse_front_matter(text)
    introduction, parts = split_steps(body)
    if not parts:
        raise LessonError("the lesson has no steps: start each step with a '## Title' line")
    steps, problems = [], []
    for number, (title, lines) in enumerate(parts, 1):
        step, found = _step(number, title, lines, path.name, facts)
        steps.append(step)
        problems.extend(found)
    lesson = Lesson(lesson_key(path), path, fields["title"], fields["level"], fields["duration"],
                    introduction, tuple(steps))
    return lesson, problems


def load_lessons(directory=None, facts=None):
    """Every lesson in ``directory`` (default ``lessons_dir()``), checked against ``facts``
    (default: the running app's, ``views.app_facts()``), as a ``LessonLibrary``.

    Lessons come in file-name order. Never raises for a file's content: an unreadable or
    malformed file, or a second file with the same key, becomes a problem and is left out.
    """
    directory = Path(directory) if directory is not None else lessons_dir()
    facts = facts if facts is not None else views.app_facts()
    if not directory.is_dir():
        return LessonLibrary((), (Problem(str(directory), "the lessons folder does not exist"),))
    lessons, problems = [], []
    for path in sorted(directory.glob("*.md")):
        if path.name.lower() in NOT_LESSONS or not path.is_file():
            continue
        try:
            if path.stat().st_size > MAX_LESSON_BYTES:
                raise LessonError(f"the file is larger than {MAX_LESSON_BYTES // 1024} KB")
            key = lesson_key(path)
            if not _KEY.fullmatch(key):
                raise LessonError(f"its name gives the key {key!r}; name lesson files with "
                                  "lower-case letters, digits and '-', e.g. 05-pooling.md")
            if any(lesson.key == key for lesson in lessons):
                raise LessonError(f"another lesson already has the key {key!r}")
            lesson, found = parse_lesson(path.read_text(encoding="utf-8"), path, facts)
        except (LessonError, OSError, UnicodeDecodeError) as error:
            reason = "the file is not UTF-8 text" if isinstance(error, UnicodeDecodeError) \
                else str(error)
            problems.append(Problem(path.name, reason))
            continue
        lessons.append(lesson)
        problems.extend(found)
    return LessonLibrary(tuple(lessons), tuple(problems))
