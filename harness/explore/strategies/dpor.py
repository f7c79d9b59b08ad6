"""Dynamic partial-order reduction: one schedule per class of equivalent interleavings.

Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson and Sagonas, "Optimal
Dynamic Partial Order Reduction", POPL 2014, Algorithm 1). Two interleavings
that differ only in the order of independent steps (a Mazurkiewicz trace) end
in the same state; the search runs one execution, finds its *races* (two
dependent steps of different threads that are not ordered by other steps), and
schedules the reversal of each race at the decision before the first step,
unless a thread already scheduled there starts an equivalent reversal (the
source-set test on the race's "initials"). Sleep sets skip threads whose next
step was already explored from an equivalent state.

An *event* is what the thread chosen at a decision does until its next
scheduling point: the access it announced there (``Choice.ops``), plus, found
when the next decision comes, its end, and the threads it enabled or disabled.
Two events are dependent when they touch the same location (a point's target:
``.value``, ``theVar``, ``[]``; owners are not told apart, which over-approximates)
with at least one write, when one is a call (untraced code, taken to read
anything and to change containers: it conflicts with calls, writes and
subscript reads; a C function that sets attributes, such as ``setattr``, is
the one effect this misses), when
they operate on the same primitive or thread (start, join, end, blocking), when
one enables or disables the other's thread, or when either is a virtual-clock
timeout (time is global). Over-approximating dependence costs schedules, never
soundness. A timeout is enabled only while every thread waits (the step that
made the last one wait orders it after everything), so the reversal of two
timeouts never shows as a race: where timeouts are the options, each is tried.

With a preemption bound the search follows Coons, Musuvathi and McKinley,
"Bounded Partial-Order Reduction" (OOPSLA 2013), in its simplest sound form: no
sleep sets (a thread put to sleep may have been explored only within a bound
its alternatives would not need), reversals that would exceed the bound are not
scheduled, and each reversal is also scheduled conservatively at the last free
switch (a decision where the current thread could not go on) before the race,
from where it costs no preemption.
"""

from __future__ import annotations

from types import FrameType

from harness.explore.strategies.base import Choice, SystematicSearch
from harness.explore.strategies.calls import read_only_call

__all__ = ["DPOR", "Label", "dependent"]


class Label:
    """What one event touches."""

    __slots__ = ("call", "glob", "prims", "read_all", "reads", "writes")

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.writes: set[str] = set()
        self.prims: set[int] = set()
        self.call = False
        self.read_all = False  # a call of a read-only builtin: it may read anything
        self.glob = False

    def add(self, kind: str, what: object, canon: dict[int, int]) -> None:
        if kind == "read":
            self.reads.add(str(what))
        elif kind == "write":
            self.writes.add(str(what))
        elif kind == "call":
            self.call = True
        elif what is not None and kind in ("sync", "end"):
            self.prims.add(canon.setdefault(id(what), len(canon)))


def dependent(a: Label, b: Label) -> bool:
    """Whether the order of two events of different threads may matter."""
    if a.glob or b.glob:
        return True
    if a.prims and not a.prims.isdisjoint(b.prims):
        return True
    if (a.call and _touched_by_call(b)) or (b.call and _touched_by_call(a)):
        return True
    if (a.read_all and (b.writes or b.call)) or (b.read_all and (a.writes or a.call)):
        return True
    if a.writes and not (a.writes.isdisjoint(b.writes) and a.writes.isdisjoint(b.reads)):
        return True
    return bool(b.writes) and not b.writes.isdisjoint(a.reads)


def _touched_by_call(label: Label) -> bool:
    """Whether a call (untraced code: it may read anything, and change containers)
    may be ordered against this event: another call, a write, or a subscript read."""
    return label.call or label.read_all or bool(label.writes) or "[]" in label.reads


class _Node:
    __slots__ = ("backtrack", "chosen", "codes", "costs", "done", "free", "ops", "sleep", "spent")

    def __init__(self, codes: list[int], costs: list[int], spent: int, free: bool) -> None:
        self.codes = codes
        self.costs = costs
        self.spent = spent
        self.free = free  # the current thread could not go on: switching is free
        self.chosen = 0
        self.backtrack: set[int] = set()
        self.done: set[int] = set()
        self.sleep: dict[int, Label] = {}
        self.ops: list[tuple[str, object]] = []  # each option's next step


class _Event:
    __slots__ = ("clock", "code", "frame", "label", "thread")

    def __init__(self, code: int, label: Label, frame: object = None) -> None:
        self.code = code
        self.frame = frame
        self.thread = code >> 1
        self.label = label
        self.clock: list[int] = []


class DPOR(SystematicSearch):
    name = "dpor"

    def __init__(self, bound: int | None = None) -> None:
        if bound is not None and bound < 0:
            raise ValueError("the preemption bound must be >= 0")
        super().__init__()
        self.bound = bound
        self._stack: list[_Node] = []
        self.blocked = 0  # executions that ended in a sleep-set-blocked state

    # -- one execution -------------------------------------------------------
    def _begin(self) -> None:
        self._depth = 0
        self._spent = 0
        self._canon: dict[int, int] = {}
        self._events: list[_Event] = []
        self._parents: dict[int, int] = {}  # thread -> index of the event that created it
        self._previous: tuple[int, ...] | None = None
        self._sleep: dict[int, Label] | None = {}  # None once the execution is blocked
        self._cut: int | None = None  # events from here on are not analysed
        self._ops: list[tuple[str, object]] = []

    def on_thread(self, index: int) -> None:
        if self._started and self._events:
            self._parents[index] = len(self._events) - 1

    def _label(self, code: int, ops: list[tuple[str, object]]) -> Label:
        label = Label()
        if code & 1:
            label.glob = True
        else:
            kind, what = ops[code >> 1]
            label.add(kind, what, self._canon)
        return label

    def _complete_last(self, choice: Choice) -> None:
        """The previous event is over: add its end and what it enabled or disabled."""
        last = self._events[-1]
        ops = choice.ops
        if last.label.call:
            kind = ops[last.thread][0]
            frame = choice.frames[last.thread]
            if kind == "sync" or (
                kind in ("read", "write", "call") and getattr(frame, "f_back", None) is last.frame
            ):
                # The call entered traced code or an instrumented primitive before
                # anything else: it did nothing by itself.
                last.label.call = False
        if ops[last.thread][0] == "end":
            last.label.add("end", ops[last.thread][1], self._canon)
        before = self._previous
        if before is not None:
            now = set(choice.runnable)
            old = set(before)
            for q in now.symmetric_difference(old):
                if q != last.thread and q < len(ops) and q not in self._parents_after(last):
                    kind, what = ops[q]
                    if kind == "sync":
                        last.label.add(kind, what, self._canon)
                    else:
                        last.label.glob = True  # pragma: no cover - a blocked thread is in sync

    def _parents_after(self, last: _Event) -> set[int]:
        index = len(self._events) - 1
        return {t for t, e in self._parents.items() if e == index}

    def choose(self, choice: Choice) -> int:
        if self._events:
            self._complete_last(choice)
        self._previous = choice.runnable
        self._ops = choice.ops
        depth = self._depth
        self._depth += 1
        codes = choice.options()
        if depth < len(self._stack):
            node = self._stack[depth]
            op = self._op_of(node.codes[node.chosen], choice)
            if codes != node.codes or op != node.ops[node.chosen]:
                # Raised here it would be the program's exception: the engine
                # raises it once the execution is over (see ``nondeterminism``).
                was = node.ops[node.chosen]
                self.nondeterminism = (
                    f"decision {depth} offered {codes} (next step {op[0]} {op[1] or ''}) "
                    f"after the same prefix that offered {node.codes} (next step "
                    f"{was[0]} {was[1] or ''}): the program does not behave the same "
                    "way when replayed (does it depend on time, randomness or thread "
                    "identities?)"
                )
                self._sleep = None
                self._cut = 0
                del self._stack[depth:]
                return choice.default
            if depth == len(self._stack) - 1 and self.bound is None:
                self._sleep = dict(node.sleep)
        else:
            fresh = self._new_node(choice, codes)
            if fresh is None:
                return choice.default
            node = fresh
        code = node.codes[node.chosen]
        self._spent = node.spent + node.costs[node.chosen]
        frame = choice.frames[code >> 1] if not code & 1 else None
        label = self._label(code, choice.ops)
        if label.call and isinstance(frame, FrameType) and read_only_call(frame):
            label.call = False
            label.read_all = True
        self._events.append(_Event(code, label, frame))
        return code

    def _op_of(self, code: int, choice: Choice) -> tuple[str, object]:
        if code & 1:
            return ("timeout", None)
        kind, what = choice.ops[code >> 1]
        return (kind, None if kind == "sync" or kind == "end" else what)

    def _filtered(self, sleep: dict[int, Label]) -> dict[int, Label]:
        """The sleep set after the last event: the sleepers it does not wake."""
        if not self._events:
            return dict(sleep)
        last = self._events[-1]
        return {
            q: lab for q, lab in sleep.items() if q != last.code and not dependent(lab, last.label)
        }

    def _new_node(self, choice: Choice, codes: list[int]) -> _Node | None:
        if self._sleep is None:
            return None  # blocked: the rest of this execution is not explored
        sleep = self._filtered(self._sleep) if self._events else dict(self._sleep)
        if self.bound is not None:
            sleep = {}
        costs = [1 if choice.is_preemption(code) else 0 for code in codes]
        awake = [c for c in codes if c not in sleep]
        if not awake:
            self._sleep = None
            self._cut = len(self._events)
            self.blocked += 1
            return None
        node = _Node(codes, costs, self._spent, not choice.current_runnable)
        node.chosen = codes.index(awake[0])
        node.backtrack.add(awake[0])
        if not choice.runnable:
            # Every thread waits and timeouts are the options: a timeout is
            # enabled only then, so a race with one is not seen as a race
            # (the step that made everyone wait orders it). Try each.
            node.backtrack.update(awake)
        node.sleep = sleep
        node.ops = [self._op_of(code, choice) for code in codes]
        self._stack.append(node)
        self._sleep = sleep
        return node

    def end_execution(self, steps: int, failed: bool) -> None:
        if self._events and self._ops and self._ops[self._events[-1].thread][0] == "end":
            last = self._events[-1]
            last.label.add("end", self._ops[last.thread][1], self._canon)
        self._analyse()

    # -- races ---------------------------------------------------------------
    def _analyse(self) -> None:
        """Vector clocks of the execution's events, and a reversal for each race."""
        events = self._events
        limit = len(events) if self._cut is None else self._cut
        limit = min(limit, len(self._stack))
        width = 1 + max((e.thread for e in events), default=0)
        last_of: dict[int, int] = {}
        counts = [0] * width
        before: list[list[int]] = []  # events of each thread before position i
        for j, ej in enumerate(events[:limit]):
            before.append(list(counts))
            p = ej.thread
            base = list(events[last_of[p]].clock) if p in last_of else [0] * width
            if p not in last_of and p in self._parents and self._parents[p] < j:
                _join(base, events[self._parents[p]].clock)
            for i in range(j - 1, -1, -1):
                ei = events[i]
                if ei.thread == p or not dependent(ei.label, ej.label):
                    continue
                if base[ei.thread] < ei.clock[ei.thread]:
                    self._reverse(i, j, base, before)
                    _join(base, ei.clock)
            counts[p] += 1
            base[p] = counts[p]
            ej.clock = base
            last_of[p] = j

    def _reverse(self, i: int, j: int, past_j: list[int], before: list[list[int]]) -> None:
        """Race ``i`` before ``j``: make sure some thread can start the reversal at ``i``."""
        events = self._events
        node = self._stack[i]
        ei = events[i]
        prefix = before[i]
        initials: list[int] = []
        seen: set[int] = {ei.thread}
        width = len(prefix)
        for k in range(i + 1, j):
            ek = events[k]
            if ek.thread in seen:
                continue
            if ek.clock[ei.thread] >= ei.clock[ei.thread]:
                continue  # after i: not part of the reversal
            seen.add(ek.thread)
            own = ek.thread
            if all(ek.clock[r] <= prefix[r] + (r == own) for r in range(width)):
                initials.append(ek.code)
        if events[j].thread not in seen and all(past_j[r] <= prefix[r] for r in range(width)):
            initials.append(events[j].code)
        usable = [c for c in initials if c in node.codes]
        if usable:
            self._add(node, usable)
        else:  # cannot tell: every option (Flanagan and Godefroid, POPL 2005)
            self._add_all(node)
        if self.bound is not None:
            for k in range(i - 1, -1, -1):
                if self._stack[k].free:
                    free = self._stack[k]
                    wanted = [c for c in usable if c in free.codes]
                    if wanted:
                        self._add(free, wanted)
                    else:
                        self._add_all(free)
                    break

    def _add(self, node: _Node, usable: list[int]) -> None:
        if node.backtrack.intersection(usable) and self.bound is None:
            return
        for code in usable:
            cost = node.costs[node.codes.index(code)]
            if self.bound is None or node.spent + cost <= self.bound:
                if code not in node.sleep:
                    node.backtrack.add(code)
                if self.bound is None:
                    return

    def _add_all(self, node: _Node) -> None:
        for code, cost in zip(node.codes, node.costs, strict=True):
            if code not in node.sleep and (self.bound is None or node.spent + cost <= self.bound):
                node.backtrack.add(code)

    def _backtrack(self) -> bool:
        stack = self._stack
        while stack:
            node = stack[-1]
            chosen = node.codes[node.chosen]
            node.done.add(chosen)
            if self.bound is None and len(stack) <= len(self._events):
                node.sleep[chosen] = self._events[len(stack) - 1].label
            for i, code in enumerate(node.codes):
                if code in node.backtrack and code not in node.done and code not in node.sleep:
                    node.chosen = i
                    return True
            stack.pop()
        return False

    def describe(self) -> dict[str, object]:
        if self.bound is None:
            return {"strategy": self.name}
        return {"strategy": self.name, "preemption_bound": self.bound}


def _join(into: list[int], other: list[int]) -> None:
    for r, value in enumerate(other):
        if value > into[r]:
            into[r] = value
