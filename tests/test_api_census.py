"""tools/api_census.py: which PyTorch names a body of code uses, and whether minigrad has them."""

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("api_census", ROOT / "tools" / "api_census.py")
census = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(census)


def uses(source):
    names, _ = census.census_file(textwrap.dedent(source))
    return names


def test_module_aliases_resolve_to_full_names():
    names = uses("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        x = torch.randn(3, 4)
        layer = nn.Linear(4, 2)
        y = F.relu(x) + F.relu(-x)
        torch.backends.cudnn.benchmark = True
    """)
    assert names == {"torch.randn": 1, "torch.nn.Linear": 1, "torch.nn.functional.relu": 2,
                     "torch.backends.cudnn.benchmark": 1}


def test_from_imports_and_an_unused_import_counts_once():
    names = uses("""
        from torch import nn, optim
        from torch.utils.data import DataLoader, Dataset
        from torch.autograd import Variable as V
        loader = DataLoader(data, batch_size=4)
        more = DataLoader(data)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        v = V(x)
    """)
    # nn and Dataset are imported but never used: each counts once, as the import alone needs it
    assert names == {"torch.utils.data.DataLoader": 2, "torch.utils.data.Dataset": 1, "torch.autograd.Variable": 1,
                     "torch.optim.Adam": 1, "Module.parameters": 1, "torch.nn": 1}


def test_dotted_import_without_alias_and_unused_module_import():
    names = uses("""
        import torch.utils.data
        import torch.backends.cudnn as cudnn
        import torch.nn.init
        ds = torch.utils.data.TensorDataset(a, b)
    """)
    # torch.utils.data is covered by its TensorDataset; the other two imports are needed though unused
    assert names == {"torch.utils.data.TensorDataset": 1, "torch.backends.cudnn": 1, "torch.nn.init": 1}


def test_method_calls_are_counted_on_any_object_but_not_on_modules_or_literals():
    names = uses("""
        import numpy as np
        import torch
        y = x.view(2, 3).sum() + w.sum(0)
        total = np.sum(y)
        text = ", ".join(parts)
        words = line.split()
        fields = line.split(",")
        pieces = t.split(2, dim=1)
        names.sort(key=len)
        model.train()
        optimizer.step()
        self.stride = 2
        g = x.grad
        i = names.index("a")
        y = self.prelu(y)
        n = len(self.data)
        self.zero_grad()
    """)
    assert names == {"Tensor.view": 1, "Tensor.sum": 2, "Tensor.split": 1, "Module.train": 1,
                     "Optimizer.step": 1, "Tensor.grad": 1, "Module.zero_grad": 1}


def test_a_local_variable_hides_an_import_alias_inside_its_function():
    names = uses("""
        from torch.utils import data
        def load(data):
            return data.to("cpu")
        loader = data.DataLoader(ds)
    """)
    assert names == {"torch.utils.data.DataLoader": 1, "Tensor.to": 1}


def test_where_pytorch_defines_a_name_counts_as_where_it_is_imported_from():
    names = uses("""
        import torch
        a = torch.nn.modules.linear.Linear
        b = torch.utils.data.dataloader.DataLoader
        c = nn.Module.__init__
    """)
    assert names == {"torch.nn.Linear": 1, "torch.utils.data.DataLoader": 1}


def test_names_of_other_packages_are_kept_apart():
    names = uses("""
        import torchvision.transforms as T
        from torchvision.utils import save_image
        t = T.Compose([T.ToTensor()])
        save_image(x, "a.png")
    """)
    assert names == {"torchvision.transforms.Compose": 1, "torchvision.transforms.ToTensor": 1,
                     "torchvision.utils.save_image": 1}
    assert census.scope_of("torchvision.utils.save_image") == ("other package", "torchvision")


def test_scope():
    assert census.scope_of("torch.nn.Linear") == ("in", "")
    assert census.scope_of("torch.distributed.init_process_group") == ("out", "distributed")
    assert census.scope_of("torch.jit.script") == ("out", "compilation")
    assert census.scope_of("Tensor.to_sparse") == ("out", "sparse")
    assert census.scope_of("torch._C._get_tracing_state") == ("out", "private")


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_files_that_do_not_parse_are_counted_and_skipped(tmp_path):
    write(tmp_path, "a.py", "import torch\nx = torch.zeros(2)\ny = torch.zeros(3)\n")
    write(tmp_path, "sub/b.py", "import torch\nx = torch.zeros(2)\nx.backward()\n")
    write(tmp_path, "old.py", "import torch\nprint 'python 2'\nx = torch.ones(2)\n")
    write(tmp_path, "plain.py", "import os\nos.path.join('a', 'b')\n")
    write(tmp_path, "skip/c.py", "import torch\nx = torch.eye(2)\n")
    result = census.take_census([tmp_path], exclude=["*/skip/*"])
    assert result["files"] == {"read": 4, "unparsable": 1, "using_torch": 2}
    assert result["names"] == {"torch.zeros": {"uses": 3, "files": 2}, "Tensor.backward": {"uses": 1, "files": 1}}


@pytest.fixture
def fake_minigrad(tmp_path, monkeypatch):
    """A tiny package standing in for minigrad, so the statuses do not follow minigrad's growth."""
    package = tmp_path / "census_fake_minigrad"
    write(package, "__init__.py", """
        from . import nn, optim
        class Tensor:
            def sum(self): pass
            def contiguous(self): return self
            def cuda(self): return self
        def save(obj, path): pass
        def zeros(*shape): pass
    """)
    write(package, "nn/__init__.py", """
        class Module:
            def parameters(self): return []
        class Linear(Module): pass
    """)
    write(package, "nn/functional.py", "def sigmoid(x): return x\n")
    write(package, "optim/__init__.py", "class Optimizer:\n    def step(self): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "census_fake_minigrad"
    for name in [n for n in sys.modules if n.startswith("census_fake_minigrad")]:
        del sys.modules[name]


def test_status_yes_no_and_differs(fake_minigrad):
    counts = {"uses": 1, "files": 1}
    names = ["torch.nn.functional.sigmoid", "torch.nn.functional.gelu", "torch.nn.Linear", "torch.nn.LSTM",
             "Tensor.sum", "Tensor.repeat", "Tensor.contiguous", "Tensor.cuda", "torch.save", "Module.parameters",
             "Optimizer.step", "torch.fft.fft", "torchvision.models.vgg16"]
    rows = census.judge({"names": {n: dict(counts) for n in names}}, package=fake_minigrad)
    status = {r["name"]: r["status"] for r in rows}
    assert status == {"torch.nn.functional.sigmoid": "yes", "torch.nn.functional.gelu": "no", "torch.nn.Linear": "yes",
                      "torch.nn.LSTM": "no", "Tensor.sum": "yes", "Tensor.repeat": "no", "Tensor.contiguous": "differs",
                      "Tensor.cuda": "yes", "torch.save": "differs", "Module.parameters": "yes",
                      "Optimizer.step": "yes", "torch.fft.fft": "no", "torchvision.models.vgg16": ""}
    reason = {r["name"]: r["reason"] for r in rows}
    assert reason["torch.save"] == census.DIFFERS["torch.save"]
    assert reason["Tensor.cuda"] == "not on minigrad.nn.Module"  # PyTorch's Module has .cuda() too
    assert {r["name"]: r["scope"] for r in rows}["torch.fft.fft"] == "out"


def test_summary_shares(fake_minigrad):
    result = {"files": {"read": 5, "unparsable": 1, "using_torch": 3},
              "names": {"torch.nn.Linear": {"uses": 9, "files": 3}, "torch.nn.LSTM": {"uses": 2, "files": 2},
                        "Tensor.sum": {"uses": 1, "files": 1}, "torch.jit.script": {"uses": 4, "files": 4}}}
    rows = census.judge(result, package=fake_minigrad)
    assert [r["name"] for r in rows] == ["torch.jit.script", "torch.nn.Linear", "torch.nn.LSTM", "Tensor.sum"]
    figures = census.summary(result, rows)
    assert figures == {"files_read": 5, "files_unparsable": 1, "files_using_torch": 3, "names_in_scope": 3,
                       "present_in_scope": 2, "names_in_scope_2_files": 2, "present_in_scope_2_files": 1,
                       "names_out_of_scope": 1, "names_other_packages": 0}
    text = census.markdown(figures, rows, min_files=2)
    assert "| `torch.nn.LSTM` | 2 | 2 | no |  |" in text
    assert "`Tensor.sum`" not in text  # used in one file only


def test_cli_missing_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert census.main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere" in err


def test_cli_writes_json_and_fills_the_markdown_between_markers(tmp_path):
    code = tmp_path / "code"
    write(code, "a.py", "import torch.nn as nn\nm = nn.Linear(2, 3)\nm.parameters()\n")
    write(code, "b.py", "from torch import nn\nclass M(nn.Module):\n    pass\nlayer = nn.Linear(1, 1)\n")
    doc = write(tmp_path, "doc.md", "# Title\n<!-- census:begin -->\nold\n<!-- census:end -->\n## Scripts tried\n")
    out = tmp_path / "out.json"
    assert census.main([str(code), "--json", str(out), "--markdown", str(doc)]) == 0
    data = json.loads(out.read_text())
    linear = next(r for r in data["names"] if r["name"] == "torch.nn.Linear")
    assert (linear["uses"], linear["files"], linear["status"], linear["scope"]) == (2, 2, "yes", "in")
    assert data["summary"]["files_read"] == 2
    text = doc.read_text()
    assert text.startswith("# Title\n<!-- census:begin -->\nFiles read: 2 ")
    assert text.endswith("<!-- census:end -->\n## Scripts tried\n") and "old" not in text
    assert "| `torch.nn.Linear` | 2 | 2 | yes |  |" in text
