from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0008_alert_catch_up"),
    ]

    operations = [
        migrations.AlterField(
            model_name="escalationrule",
            name="level",
            field=models.PositiveSmallIntegerField(
                help_text="1 es el primer aviso; cada nivel siguiente (2, 3...) se alcanza después que el anterior: su umbral debe ser mayor.",
                verbose_name="nivel",
            ),
        ),
    ]
