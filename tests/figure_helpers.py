"""Look inside the figures that seqkeras saves through `seqkeras.plotting.save_figure`."""

from seqkeras import plotting


def capture_figures(monkeypatch, module):
    """Records every figure `module` saves with `save_figure` (the files are still written)."""
    figures = []

    def save(figure, path, dpi=120):
        figures.append(figure)
        return plotting.save_figure(figure, path, dpi)

    monkeypatch.setattr(module, "save_figure", save)
    return figures


def colorbar_labels(figure):
    """The labels of a figure's colorbars (matplotlib names a colorbar's axes '<colorbar>')."""
    return [axis.get_ylabel() for axis in figure.axes if axis.get_label() == "<colorbar>"]
