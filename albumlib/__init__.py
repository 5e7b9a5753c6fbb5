"""albumlib: helpers for the Photo Album to Film course.

Each public function says in its docstring which notebook teaches it, in the spirit of the d2l
helper module. Importing the package is cheap: TensorFlow and Keras load only when a module that
needs them is imported.
"""

__version__ = "0.1.0"
