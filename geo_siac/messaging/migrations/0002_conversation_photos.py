import django.db.models.deletion
from django.db import migrations, models


def photos_to_rows(apps, schema_editor):
    """A conversation waiting at its last step with a WhatsApp photo keeps it."""
    Conversation = apps.get_model("messaging", "Conversation")
    ConversationPhoto = apps.get_model("messaging", "ConversationPhoto")
    ConversationPhoto.objects.bulk_create(
        ConversationPhoto(conversation_id=pk, image=photo)
        for pk, photo in Conversation.objects.filter(photo__isnull=False).values_list("pk", "photo")
    )


def first_photo_back(apps, schema_editor):
    """Going back, a conversation keeps its first photo: the single field held no more."""
    Conversation = apps.get_model("messaging", "Conversation")
    ConversationPhoto = apps.get_model("messaging", "ConversationPhoto")
    firsts = ConversationPhoto.objects.order_by("conversation_id", "pk").distinct("conversation_id")
    for conversation_id, image in firsts.values_list("conversation_id", "image"):
        Conversation.objects.filter(pk=conversation_id).update(photo=image)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_conversations_and_inbound_messages"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConversationPhoto",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("image", models.BinaryField()),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="photos",
                        to="messaging.conversation",
                    ),
                ),
            ],
            options={
                "verbose_name": "foto de la conversación",
                "verbose_name_plural": "fotos de la conversación",
            },
        ),
        migrations.RunPython(photos_to_rows, first_photo_back),
        migrations.RemoveField(
            model_name="conversation",
            name="photo",
        ),
    ]
