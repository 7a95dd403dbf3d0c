from mawa.camp.services.assignments import *  # noqa: F403 (step 1 of the split: rename only)
