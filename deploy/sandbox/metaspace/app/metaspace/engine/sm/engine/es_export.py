"""The dataset documents METASPACE exports to Elasticsearch.

EXPORTED_FIELDS maps each document field to the dataset attribute it is read from. A new field
here is a new field in Elasticsearch: existing documents only get it once they are updated
(update_es_index.py), so readers must cope with it missing until then.
"""

EXPORTED_FIELDS = {
    "ds_id": "id",
    "ds_name": "name",
    "ds_submitter_name": "submitter",
    "ds_status": "status",
    "ds_upload_dt": "created",
    "ds_is_public": "public",
    "ds_polarity": "polarity",
    "ds_organism": "organism",
}


def dataset_document(ds):
    """The Elasticsearch document of dataset ds (a dict as the data file holds it)."""
    return {field: ds.get(attr) for field, attr in EXPORTED_FIELDS.items()}
