"""Learning-rate schedules, as torch.optim.lr_scheduler: LambdaLR and StepLR.

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(...)          # optimizer.step() inside
        scheduler.step()              # once per epoch, after the optimiser's steps

A scheduler writes each parameter group's "lr"; the optimiser reads it at its next step. Creating
one records each group's starting rate as "initial_lr" and sets the rate for epoch 0.
"""

import numbers
import types

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define get_lr(), the rates for epoch `last_epoch`."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an "
                                   f"optimizer (last_epoch={last_epoch} needs the optimizer of a scheduled run)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()  # to epoch 0 (or on from the resumed epoch)

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Move to the next epoch and write its rates into the optimizer's groups."""
        if epoch is not None:
            raise TypeError("scheduler.step(epoch) is deprecated in PyTorch and not supported here; "
                            "call scheduler.step() once per epoch")
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    # --- saving and loading -------------------------------------------------------------

    def state_dict(self):
        """Everything but the optimizer (which has its own state_dict), as PyTorch."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned (checked first: a failed load changes nothing)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}.load_state_dict expects the dict that state_dict() returns, "
                            f"got {type(state_dict).__name__}")
        missing = sorted(set(self.state_dict()) - set(state_dict) - {"lr_lambdas"})
        if missing:
            raise ValueError(f"{name}.load_state_dict: the state dict has no {', '.join(missing)}; "
                             f"was it saved by another kind of scheduler?")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(state_dict['base_lrs'])} base rates, "
                             f"the optimizer {len(self.optimizer.param_groups)} parameter groups")
        self.__dict__.update({key: (list(value) if isinstance(value, tuple) else value)
                              for key, value in state_dict.items()})


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch): one function for all groups, or a list of one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), got {len(lambdas)}")
        if not all(callable(f) for f in lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch (or a list of them)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        """As PyTorch: a function is not saved (None); a callable object saves its attributes."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        saved_lambdas = state_dict.pop("lr_lambdas", None) or [None] * len(self.lr_lambdas)
        super().load_state_dict(state_dict)
        for f, attributes in zip(self.lr_lambdas, saved_lambdas):
            if attributes is not None:
                f.__dict__.update(attributes)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma^(epoch // step_size): multiplied by gamma every step_size epochs.

    Computed as PyTorch does, from the current rate (lr * gamma at each multiple of step_size), so
    the rates agree with PyTorch's to the last bit."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or gamma != gamma:
            raise TypeError(f"StepLR: gamma must be a number, got {gamma!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]
