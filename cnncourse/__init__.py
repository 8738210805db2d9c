"""cnncourse: the helper library behind a Spanish course on convolutional neural networks.

One module per idea of the course: :mod:`cnncourse.shapes` (output sizes),
:mod:`cnncourse.params` (parameter counts and layer tables), :mod:`cnncourse.plot`
(figures used by the chapters) and the modules of the later chapters. Submodules are
imported on demand so that light exercises do not pay for torch.
"""

__version__ = "0.1.0"
