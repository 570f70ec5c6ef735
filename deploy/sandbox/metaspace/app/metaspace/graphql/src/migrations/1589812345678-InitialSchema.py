"""The graphql schema's first tables."""


def up(schema):
    schema["user"] = ["id", "name", "email"]
    schema["group"] = ["id", "name"]
    schema["project"] = ["id", "name", "is_public"]
