"""mg.utils: PyTorch's attribute path to the data tools (`mg.utils.data.DataLoader`)."""

from . import data
