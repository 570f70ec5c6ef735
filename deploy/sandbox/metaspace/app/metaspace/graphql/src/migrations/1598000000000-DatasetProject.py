"""Datasets belong to projects."""


def up(schema):
    schema["dataset_project"] = ["dataset_id", "project_id", "approved"]
