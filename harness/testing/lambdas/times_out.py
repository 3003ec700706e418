# A customer's JITR Lambda that never returns in time (a blocked call). Written for zt-hil's tests.
import time


def lambda_handler(event, context):
    print("waiting on the device registry for", event["certificateId"], flush=True)
    time.sleep(60)
