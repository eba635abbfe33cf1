"""The Lessons page's panels: the lesson chooser, the step with its view, problems found.

The lesson and the step live in the URL (``/lessons?lesson=pixels&step=3``), so a class
follows along on their own screens. A teacher who left for a live view comes back to the
same step through the menu's Lessons entry (this tab's position is kept in its session);
Back works too, pressed twice where the live page wrote its defaults into the address. The
step buttons also answer the arrow keys (Streamlit's button shortcuts), so a presenter can
move on without a mouse.
"""

import re

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cifar_core.teaching import views
from cifar_core.ui.url_state import query_value, set_query, url_state

#: The session-state key of (lesson key, step) that this tab showed last.
POSITION = "lessons_position"
#: Keyboard shortcuts of the step buttons (Streamlit's names for the arrow keys).
PREVIOUS_KEY, NEXT_KEY = "Left", "Right"
#: The "Open this view" link as large as a button, outlined: the one thing on the step a
#: teacher must find at a glance (a real link still, so it can open in a new tab).
VIEW_LINK_CSS = """
.st-key-lesson_view [data-testid="stPageLink-NavLink"] {
  font-size: 1.35rem;
  padding: 0.4rem 0.9rem;
  border: 2px solid currentColor;
  border-radius: 0.5rem;
}
.st-key-lesson_view [data-testid="stPageLink-NavLink"] * { font-size: inherit; }
"""
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$])")


def plain(text):
    """``text`` escaped for st.markdown: a file name or a reason shows as written (no
    italics from underscores, no formulas from dollar signs)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def problems_report(problems, folder):
    """Every problem found in the lessons folder, each with its file, step and reason."""
    if not problems:
        return
    count = len(problems)
    with st.expander(f"{count} problem{'s' * (count != 1)} in the lessons folder: the file, "
                     "the step and the reason", icon=":material/warning:"):
        st.markdown("\n".join(f"- {plain(str(problem))}" for problem in problems))
        st.caption(f"Lessons folder: `{folder}`. A lesson with a bad link still works; its "
                   "step shows the problem instead of the link. Fix a file and reload.")


def resume(library):
    """Opened without a lesson in the URL (the menu's Lessons entry clears the query), the
    page goes back to the lesson and step this tab showed last, not to the first lesson."""
    if "lesson" not in st.query_params and POSITION in st.session_state:
        key, number = st.session_state[POSITION]
        if library.get(key) is not None:
            set_query(lesson=key, step=number)


def lesson_picker(library):
    """The lesson chosen in a selectbox kept in the URL under ``lesson``.

    Choosing another lesson starts it at step 1.
    """
    by_key = {lesson.key: lesson for lesson in library.lessons}
    keep_in_url = url_state("lesson", library.lessons[0].key, options=list(by_key))

    def lesson_changed():
        keep_in_url()
        set_query(step=1)

    chooser, facts = st.columns([3, 1], vertical_alignment="center")
    key = chooser.selectbox("Lesson", list(by_key), key="lesson", on_change=lesson_changed,
                            format_func=lambda key: by_key[key].title,
                            label_visibility="collapsed")  # the page title says "Lessons"
    lesson = by_key[key]
    facts.caption(f"{plain(lesson.level).capitalize()} · {plain(lesson.duration)} · "
                  f"{len(lesson.steps)} steps")
    return lesson


def _move(offset, count):
    """A step button's callback: the step in the URL moved by ``offset``, kept in range.

    It reads the URL when clicked, not the step drawn with the button, so two quick
    presses move two steps.
    """
    current = query_value("step", 1, options=range(1, count + 1), cast=int)
    set_query(step=min(max(current + offset, 1), count))


def current_step(lesson):
    """The step number in the URL (1 for a missing or out-of-range one), written back."""
    count = len(lesson.steps)
    number = query_value("step", 1, options=range(1, count + 1), cast=int)
    set_query(lesson=lesson.key, step=number)
    st.session_state[POSITION] = (lesson.key, number)
    return number


def step_buttons(lesson, number):
    """Previous and Next, with the arrow keys as shortcuts."""
    count = len(lesson.steps)
    previous, following, hint = st.columns([1, 1, 4], vertical_alignment="center")
    previous.button("Previous", key="previous_step", icon=":material/arrow_back:",
                    shortcut=PREVIOUS_KEY, disabled=number <= 1, on_click=_move,
                    args=(-1, count), width="stretch")
    following.button("Next", key="next_step", icon=":material/arrow_forward:", type="primary",
                     shortcut=NEXT_KEY, disabled=number >= count, on_click=_move,
                     args=(1, count), width="stretch")
    hint.caption("Or the ← → keys. Share the address: the class follows on their screens.")


def view_link(step, problems):
    """The step's "Open this view" link, or why its link cannot be offered."""
    step_problems = [problem for problem in problems if problem.step == step.number]
    st.html(f"<style>{VIEW_LINK_CSS}</style>")
    with st.container(border=True, key="lesson_view"):
        if step.view is not None:
            try:
                st.page_link(f"pages/{step.view.page}.py", label="**Open this view**",
                             icon=":material/open_in_new:", query_params=step.view.query,
                             help="Opens the page in this view. Lessons in the menu "
                                  "brings you back to this step.")
            except StreamlitAPIException:  # A page this version of the app lacks.
                st.warning(f"The {step.view.page} page is not part of this app.",
                           icon=":material/link_off:")
            st.markdown(plain(views.describe_view(step.view)))
            st.caption(plain(step.view.link))
        if step_problems:
            link = next((problem.link for problem in step_problems if problem.link), None)
            st.warning((f"This step's view, {plain(link)}, cannot be shown:" if link
                        else "This step has a problem:") + "".join(
                f"\n- {plain(problem.reason)}" for problem in step_problems),
                icon=":material/link_off:")
        if step.view is None and not step_problems:
            st.caption("This step has no view: it is for talking.")


def step_list(lesson, number):
    """Every step of the lesson, a click away; the current one marked and in bold.

    Buttons, not page links: a page link to this same page would show the step but leave
    the old step in the address bar (Streamlit 1.67), and the arrow keys would then move
    from the wrong step.
    """
    with st.expander("All steps of this lesson"):
        for step in lesson.steps:
            label = f"{step.number}. {plain(step.title)}"
            current = step.number == number
            st.button(f"**{label}**" if current else label, key=f"go_to_step_{step.number}",
                      type="tertiary", icon=":material/play_arrow:" if current else None,
                      on_click=set_query, kwargs={"step": step.number})


def show_step(lesson, number, problems):
    """The step: its number and title, progress, buttons, text, and its view beside it."""
    step = lesson.steps[number - 1]
    count = len(lesson.steps)
    if number == 1 and lesson.introduction:
        st.markdown(lesson.introduction)
    st.header(f"Step {number} of {count}: {step.title}", anchor=False)
    st.progress(number / count)
    step_buttons(lesson, number)
    text, side = st.columns([3, 2], gap="large")
    text.markdown(step.text)
    with side:
        view_link(step, problems)
        step_list(lesson, number)
