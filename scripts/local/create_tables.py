"""Creates, in DynamoDB Local, the tables that template.yaml defines.

The template is the one definition of the tables: keys, attribute types and
TTL come from it, so local tables cannot drift from deployed ones. Each table
is named by its logical id (UsersTable, RevokedTokensTable, OutboxTable). Idempotent.

Usage: python create_tables.py ENDPOINT_URL [TEMPLATE]
"""

import sys

import boto3
import yaml


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...) as plain data."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)
    return {suffix: value}


TemplateLoader.add_multi_constructor("!", _tag)


def tables(template_path):
    with open(template_path) as f:
        template = yaml.load(f, Loader=TemplateLoader)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            yield logical_id, resource["Properties"]


def stream(properties):
    """The table's stream, as CreateTable takes it (nothing if it has none)."""
    spec = properties.get("StreamSpecification")
    if not spec:
        return {}
    return {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}}


def indexes(properties):
    """The table's global secondary indexes, as CreateTable takes them."""
    specs = properties.get("GlobalSecondaryIndexes")
    if not specs:
        return {}
    return {"GlobalSecondaryIndexes": [
        {"IndexName": spec["IndexName"], "KeySchema": spec["KeySchema"], "Projection": spec["Projection"]}
        for spec in specs
    ]}


def main():
    endpoint = sys.argv[1]
    template_path = sys.argv[2] if len(sys.argv) > 2 else "template.yaml"
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    existing = set(dynamodb.list_tables()["TableNames"])
    for name, properties in tables(template_path):
        if name not in existing:
            dynamodb.create_table(
                TableName=name,
                AttributeDefinitions=properties["AttributeDefinitions"],
                KeySchema=properties["KeySchema"],
                BillingMode=properties.get("BillingMode", "PAY_PER_REQUEST"),
                **stream(properties),
                **indexes(properties),
            )
            dynamodb.get_waiter("table_exists").wait(TableName=name)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            current = dynamodb.describe_time_to_live(TableName=name)
            if current["TimeToLiveDescription"]["TimeToLiveStatus"] != "ENABLED":
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
        print(f"table {name} ready", file=sys.stderr)


if __name__ == "__main__":
    main()
