from django.db import migrations

# Provisional defaults, documented as such: review with occupational health before go-live.
SEVERITIES = [
    ("A", "Category A (most severe)", 2000, 1),
    ("B", "Category B", 1500, 2),
    ("C", "Category C", 1000, 3),
    ("other", "Other distressing material", 1000, 4),
]


def create_defaults(apps, schema_editor):
    SeverityCategory = apps.get_model("exposure", "SeverityCategory")
    Weights = apps.get_model("exposure", "Weights")
    for code, label, weight, position in SEVERITIES:
        SeverityCategory.objects.get_or_create(
            code=code, defaults={"label": label, "weight_milli": weight, "position": position}
        )
    if not Weights.objects.exists():
        Weights.objects.create()


class Migration(migrations.Migration):
    dependencies = [("exposure", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
