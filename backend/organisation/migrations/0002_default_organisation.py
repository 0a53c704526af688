from django.db import migrations


def create_default(apps, schema_editor):
    Organisation = apps.get_model("organisation", "Organisation")
    if not Organisation.objects.exists():
        Organisation.objects.create(name="Keel")


class Migration(migrations.Migration):
    dependencies = [("organisation", "0001_initial")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
