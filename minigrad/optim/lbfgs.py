"""L-BFGS (Nocedal's limited-memory BFGS), a port of torch.optim.LBFGS: the same iterations, tests
and strong-Wolfe line search, on the flat buffer that holds all the parameters.

    optimizer = LBFGS(model.parameters(), history_size=10, line_search_fn="strong_wolfe")
    def closure():
        optimizer.zero_grad()
        loss = loss_function(model(x), y)
        loss.backward()
        return loss
    optimizer.step(closure)      # up to max_iter iterations, each calling closure once or more
"""

import numbers

from .. import autograd, backend
from ..tensor import Tensor
from .optimizer import Optimizer, check_number


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
    `bounds` (default: between x1 and x2); their middle if the cubic has no minimum."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d that satisfies the strong Wolfe conditions

        f(x + t d) <= f(x) + c1 t g.d        (enough decrease)
        |g(x + t d).d| <= c2 |g.d|           (the slope flattened)

    found by bracketing, then zooming in by cubic interpolation (Nocedal & Wright, algorithms 3.5
    and 3.6, as minFunc and PyTorch). Returns (f_new, g_new, t, function evaluations)."""
    d_norm = float(abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracket a step that satisfies the conditions
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], \
                [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], \
                [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)  # extrapolate
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:  # reached the most evaluations allowed
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insufficient_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a point too close to an end of the bracket makes little progress: move it inside (minFunc's rule)
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:  # not enough decrease: the new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:  # the old low end becomes the high end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """Limited-memory BFGS. Each step(closure) runs up to max_iter iterations of

        d = -H g          H: the inverse Hessian estimated from the last history_size pairs
                          (s = the change of the parameters, y = the change of the gradient),
                          applied by the two-loop recursion, scaled by y.s / y.y
        p <- p + t d      t = lr (min(1, 1/|g|_1) lr on the very first iteration), or the step
                          of a strong-Wolfe line search (line_search_fn="strong_wolfe")

    stopping early when the gradient, the loss or the step no longer change by more than the
    tolerances. One parameter group only, as PyTorch.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self.lbfgs_state = {"func_evals": 0, "n_iter": 0}

    def check_hyper_parameters(self, group):
        for name in ("lr", "tolerance_grad", "tolerance_change"):
            check_number("LBFGS", name, group[name])
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"LBFGS: {name} must be a positive integer, got {value!r}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {group['line_search_fn']!r}")

    def add_param_group(self, group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(group)

    # --- the parameters as one flat vector ---------------------------------------------------

    def _values(self):
        """All parameters, back to back: the group's flat buffer (each parameter a view of it)."""
        flat = self._flat[0]
        flat.check_in_place()
        return flat.values

    def _gather_flat_grad(self):
        values = self._values()
        xp = backend.array_module(values)
        return xp.concatenate([xp.zeros(p.numel(), dtype=values.dtype) if p.grad is None
                               else p.grad.array.reshape(-1).astype(values.dtype, copy=False) for p in self._params])

    def _changed(self):
        for p in self._params:  # in place: graphs that saved the old values must notice
            p._version[0] += 1

    def _add_grad(self, step_size, update):
        values = self._values()
        values += step_size * update
        self._changed()

    def _set_param(self, x):
        self._values()[...] = x
        self._changed()

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure=None):
        """Run up to max_iter iterations; closure() re-evaluates the model, calls backward and returns
        the loss. Returns the loss of the first evaluation, as PyTorch."""
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model and returns the loss")

        def evaluate():
            with autograd.enable_grad():
                return closure()

        with autograd.no_grad():
            return self._step(evaluate)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        state = self.lbfgs_state

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:  # already at a minimum
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y.dot(y))
                num_old = len(old_dirs)
                al = [None] * num_old
                q = -flat_grad  # two-loop recursion: d = -H g
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i].dot(q)) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i].dot(r)) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))  # the directional derivative
            if gtd > -tolerance_change:  # d does not descend
                break

            ls_func_evals = 0
            if line_search_fn == "strong_wolfe":
                x_init = self._values().copy()
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    lambda x, step, direction: self._directional_evaluate(closure, x, step, direction),
                    x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:  # re-evaluate, unless this was the last iteration
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # the stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change:  # the parameters no longer change
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss no longer changes
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # --- saving and loading -------------------------------------------------------------------

    def state_dict(self):
        """As PyTorch: the whole state under the first parameter's index, 0."""
        def wrap(value):
            if backend.is_array(value):
                return Tensor._wrap(value.copy(), False)
            if isinstance(value, list):
                return [wrap(v) for v in value]
            return value

        group = self.param_groups[0]
        groups = [{**{k: v for k, v in group.items() if k != "params"}, "params": list(range(len(self._params)))}]
        return {"state": {0: {k: wrap(v) for k, v in self.lbfgs_state.items()}}, "param_groups": groups}

    def load_state_dict(self, state_dict):
        def unwrap(value):
            if isinstance(value, Tensor):
                return backend.to_device(value.array, backend.device_of(self._values())).copy()
            if isinstance(value, (list, tuple)):
                return [unwrap(v) for v in value]
            return value

        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise TypeError("LBFGS.load_state_dict expects what state_dict() returns, a dict with keys 'state' and "
                            "'param_groups'")
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self._params):
            raise ValueError("LBFGS.load_state_dict: the state dict is of another model (one group of "
                             f"{len(self._params)} parameters expected)")
        saved = {k: v for k, v in groups[0].items() if k != "params"}
        missing = sorted(set(self.defaults) - set(saved))
        if missing:
            raise ValueError(f"LBFGS.load_state_dict: the saved parameter group has no {', '.join(missing)}, so it "
                             f"was saved by another kind of optimizer")
        self.check_hyper_parameters(saved)
        entry = state_dict["state"].get(0, state_dict["state"].get("0", {}))
        self.param_groups[0].update(saved)
        self.lbfgs_state = {"func_evals": 0, "n_iter": 0, **{k: unwrap(v) for k, v in entry.items()}}
