"""Run a test's script in a fresh Python process (for what one process cannot undo or survive).

Used by the tests that need TensorFlow configured before it starts (two logical CPU devices for
tf.distribute) or a process that dies (a hard kill in the middle of training).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PATHS = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / 'tests')!r})
"""

# TensorFlow's one CPU split into two logical devices, and a MirroredStrategy over them
_TWO_CPU_REPLICAS = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
"""


def run_python(body, *, two_cpu_replicas=False, env=None):
    """Run `body` (dedented) with the project and tests/ importable; return the CompletedProcess.

    two_cpu_replicas: first split the CPU into two logical devices and define `strategy`, a
    MirroredStrategy over them. env: variables added to this process's environment.
    """
    script = _PATHS + (_TWO_CPU_REPLICAS if two_cpu_replicas else "") + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
