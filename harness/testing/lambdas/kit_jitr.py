# A customer's JITR Lambda in Python with boto3: the kit's flow (thing type, thing named after the
# key's SHA-1, policy ZTPolicy_<certificateId>, both attached, certificate activated).
# Written for zt-hil's tests; standard library + boto3 only, as on AWS's Python runtime.
import base64
import hashlib
import json
import os

import boto3

P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
iot = boto3.client("iot")


def thing_name(pem):
    der = base64.b64decode("".join(line for line in pem.splitlines() if "-----" not in line))
    at = der.index(P256_SPKI_PREFIX) + len(P256_SPKI_PREFIX)
    return hashlib.sha1(der[at:at + 65]).hexdigest()


def lambda_handler(event, context):
    print("JITR (boto3) for", event["certificateId"], "in", context.function_name)
    print("environment:", os.environ["AWS_REGION"], os.environ["AWS_DEFAULT_REGION"], os.environ["AWS_LAMBDA_FUNCTION_NAME"])
    cert = iot.describe_certificate(certificateId=event["certificateId"])["certificateDescription"]
    name = thing_name(cert["certificatePem"])
    policy = "ZTPolicy_" + event["certificateId"]
    arn = lambda kind, rest: "arn:aws:iot:%s:%s:%s/%s" % (os.environ["AWS_REGION"], event["awsAccountId"], kind, rest)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": [arn("client", name)]},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": [arn("topic", "$aws/things/${iot:ClientId}/shadow/*")]},
            {"Effect": "Allow", "Action": ["iot:Subscribe"], "Resource": [arn("topicfilter", "$aws/things/${iot:ClientId}/shadow/*")]},
        ],
    }
    try:
        iot.create_thing_type(thingTypeName="microchip-zero-touch-kit")
    except iot.exceptions.ResourceAlreadyExistsException:
        pass
    iot.create_thing(thingName=name, thingTypeName="microchip-zero-touch-kit")
    iot.create_policy(policyName=policy, policyDocument=json.dumps(document))
    iot.attach_principal_policy(policyName=policy, principal=cert["certificateArn"])
    iot.attach_thing_principal(thingName=name, principal=cert["certificateArn"])
    iot.update_certificate(certificateId=event["certificateId"], newStatus="ACTIVE")
    return {"thingName": name, "policyName": policy}
