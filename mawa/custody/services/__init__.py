from mawa.custody.services.surrender import *  # noqa: F403 (step 1 of the split: rename only)
from mawa.custody.services.surrender import _image_ok  # noqa: F401
