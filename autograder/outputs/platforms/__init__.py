"""Grades out to the platforms a course runs on: Canvas, Gradescope, nbgrader."""
