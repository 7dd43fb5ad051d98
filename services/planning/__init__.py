"""Goal-driven planning: the shortest chain of capabilities from given concepts to a goal.

``graph`` searches (pure), ``wiring`` turns a chain into a workflow definition, ``goals``
plans a ``POST /v1/runs`` goal over the registry. The conventions are in ``README.md``.
"""

from services.planning.goals import Goal, PlannedRun, PlanningError, plan_goal
from services.planning.graph import CapabilityNode, find_gap, shortest_chain
from services.planning.wiring import UnwirableError, wire

__all__ = [
    "CapabilityNode",
    "Goal",
    "PlannedRun",
    "PlanningError",
    "UnwirableError",
    "find_gap",
    "plan_goal",
    "shortest_chain",
    "wire",
]
