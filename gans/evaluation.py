"""`python -m gans evaluate RUN`: the metrics of a trained run, printed and written to RUN/metrics.json."""

from pathlib import Path

import minigrad as mg

from .experiments import pattern_report
from .models import with_labels
from .registry import ExperimentError, get_experiment, load_generator
from .runs import write_json
from .training import rank_correlation_with_frechet


def evaluate_run(run, n=10000, data_dir=None, seed=0):
    """Generate `n` samples from the run's generator and measure them (see docs/metrics.md)."""
    run = Path(run)
    experiment, G = load_generator(run)
    mg.manual_seed(seed)

    def sample(count):  # the metrics call these under mg.no_grad()
        return with_labels(G, experiment.noise(count))

    def sample_digits(labels):
        """One sample per requested digit (labels: int64 class indices)."""
        return with_labels(G, experiment.noise(len(labels)), experiment.encode_labels(labels))

    if experiment.metrics == "mnist":
        from . import metrics
        if experiment.conditional:
            results = metrics.evaluate_conditional(sample_digits, n=n, pixel_range=experiment.pixel_range,
                                                   data_dir=data_dir)
        else:
            results = metrics.evaluate_generator(sample, n=n, pixel_range=experiment.pixel_range, data_dir=data_dir)
    elif experiment.metrics == "pattern":
        results = pattern_report(sample(1).numpy().reshape(-1))  # its input is the constant 0.5
    else:
        raise ExperimentError(f"{experiment.name} has no metrics to evaluate (its samples are in {run}/samples)")
    results = {"experiment": experiment.name, **results}
    write_json(run / "metrics.json", results)
    return results


def frechet_trace(run, column, title=None):
    """A run's training statistic `column` (a history column, or "watched_loss": the loss the
    imbalance alarm watches, the classic D's real + fake) beside the Fréchet distances its Trainer
    measured (`frechet_every`), with their rank correlation over all the checks (rho) and over the
    last three quarters (rho_late, after the warm-up): one panel of plots.save_frechet_plot."""
    import csv
    import json

    run = Path(run)
    summary = json.loads((run / "summary.json").read_text())
    if not summary.get("frechet"):
        raise ExperimentError(f"{run} has no Fréchet distances measured during training; train it with "
                              f"--set frechet_every=N")
    with open(run / "history.csv") as file:
        rows = list(csv.DictReader(file))
    if column == "watched_loss":
        objective = get_experiment(summary["experiment"]).make_objective()
        values = [objective.watched_loss({key: float(value) for key, value in row.items()}) for row in rows]
    elif rows and column in rows[0]:
        values = [float(row[column]) for row in rows]
    else:
        raise ExperimentError(f"{run}/history.csv has no column {column!r}")
    steps = [int(r["step"]) for r in rows]
    return {"title": title or summary["experiment"], "label": column, "steps": steps, "values": values,
            "frechet_steps": [c["step"] for c in summary["frechet"]],
            "frechet": [c["frechet_distance"] for c in summary["frechet"]],
            "rho": rank_correlation_with_frechet(steps, values, summary["frechet"]),
            "rho_late": rank_correlation_with_frechet(steps, values, summary["frechet"], late=True)}
