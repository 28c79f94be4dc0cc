"""A cover task's credit moves. Every place that holds, charges or releases a task's credits comes through here, so
that the one rule about sandbox tasks (submitted with an `aa_test_` key) lives in one place: they move no credits
at all, and write no ledger rows. Their task rows say so too (CoverTask._move keeps their credits at 0)."""

from billing import ledger


def hold(task) -> None:
    """Reserve the task's `count` credits on submit; raises ledger.InsufficientCredits or ledger.CreditsBlocked
    (a 402) for a live task, never for a sandbox one."""
    if not task.sandbox:
        ledger.hold(task.organization, task.count, task)


def settle(task, charge: int = 0, release: int = 0) -> None:
    """Charge `charge` of the task's held credits and release `release` more; nothing for a sandbox task."""
    if task.sandbox:
        return
    if charge > 0:
        ledger.charge(task.organization, charge, task)
    if release > 0:
        ledger.release(task.organization, release, task)
