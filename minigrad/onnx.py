"""mg.onnx, as torch.onnx: importable, so that scripts which import it at the top run; exporting a
model to ONNX is outside what minigrad does (see docs/differences.md)."""


def export(model, args, f=None, *more, **options):
    raise NotImplementedError("minigrad cannot export to ONNX: save the weights with "
                              "mg.save(model.state_dict(), path) instead (see docs/differences.md)")


def is_in_onnx_export():
    """False: minigrad never traces a model for ONNX."""
    return False
