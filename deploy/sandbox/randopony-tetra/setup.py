# A stand-in for RandoPony (randopony-tetra): the thing the sandbox deploys.
from setuptools import setup

setup(
    name="randopony",
    version="0.0.0",
    packages=["randopony", "randopony.scripts"],
    entry_points={
        "console_scripts": [
            "initialize_RandoPony_db = randopony.scripts.initializedb:main",
        ]
    },
)
