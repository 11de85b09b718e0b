from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_category_department_key")]

    operations = [migrations.RemoveField(model_name="category", name="department_name")]
