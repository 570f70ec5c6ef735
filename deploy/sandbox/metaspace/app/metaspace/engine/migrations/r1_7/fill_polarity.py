"""Fill ds_polarity for datasets uploaded before 1.7 (run once, by hand, before deploying 1.7.0):

    python3 -m migrations.r1_7.fill_polarity --config CONF

Already run in production; kept for reference.
"""
import sys

if __name__ == "__main__":
    print("fill_polarity: nothing to do (already applied in 1.7.0)")
    sys.exit(0)
