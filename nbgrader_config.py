"""nbgrader configuration of the course.

Read by the `nbgrader` command line and by `python -m cnncourse.grading`, which loads
this file and adds only per-run settings (temporary roots, databases, timeouts given on
its command line). See docs/grading.md.
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "cnncourse"

# One folder per assignment: solutions/<assignment>/*.ipynb is the instructor's source
# (solutions and hidden tests), exercises/<assignment>/ the student version, generated
# by `python -m cnncourse.grading release` and committed.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Seconds a single cell may run at autograde before it is interrupted (an infinite
# loop costs this much, then grading goes on with the next cell).
c.Execute.timeout = 60

# Student-facing stubs are in Spanish, like the rest of the exercises.
c.ClearSolutions.code_stub = {"python": "# ESCRIBE AQUÍ TU CÓDIGO\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ESCRIBE AQUÍ TU RESPUESTA"

# Put back test cells that a student deleted (they are restored from the gradebook).
c.OverwriteCells.add_missing_cells = True

# Feedback pages (python -m cnncourse.grading report): "hide" leaves the hidden tests out
# (their code, their expected data and their tracebacks; a failed test shows only its
# message), "show" shows them as nbgrader does. `report --show-hidden-tests` overrides it.
c.CnnCourse.feedback_hidden_tests = "hide"
