"""The messaging app's data migrations, run forward and back on PostGIS with Django's MigrationExecutor."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("messaging", "0001_conversations_and_inbound_messages")]
PHOTOS = [("messaging", "0002_conversation_photos")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_waiting_photo_moves_to_conversation_photo_and_back():
    # Every app's leaf, not messaging's alone: going back to 0001 also unapplies what depends on messaging's later
    # migrations (reports/0036, which partitions the reports), and the tests after this one need them all.
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        apps = migrate(BEFORE)
        Conversation = apps.get_model("messaging", "Conversation")
        waiting = Conversation.objects.create(channel="whatsapp", phone="56911111111", step="name", photo=b"foto-1")
        without = Conversation.objects.create(channel="sms", phone="56922222222", step="kind")

        apps = migrate(PHOTOS)
        ConversationPhoto = apps.get_model("messaging", "ConversationPhoto")
        rows = list(ConversationPhoto.objects.values_list("conversation_id", "image"))
        assert [(pk, bytes(image)) for pk, image in rows] == [(waiting.pk, b"foto-1")]
        ConversationPhoto.objects.create(conversation_id=waiting.pk, image=b"foto-2")
        ConversationPhoto.objects.create(conversation_id=without.pk, image=b"foto-3")

        apps = migrate(BEFORE)
        Conversation = apps.get_model("messaging", "Conversation")
        back = {pk: photo and bytes(photo) for pk, photo in Conversation.objects.values_list("pk", "photo")}
        assert back == {waiting.pk: b"foto-1", without.pk: b"foto-3"}
    finally:
        migrate(latest)
