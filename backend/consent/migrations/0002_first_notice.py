import hashlib

from django.db import migrations
from django.utils import timezone

NOTICE_V1 = """\
Before you choose: the limits of confidentiality

If you press "Get support now", or answer a check-in in a way that says you are at risk, someone will
contact you. That happens whatever else you choose, because it is how we keep you safe.

What Keel is for

Keel records how long you are exposed to distressing material, and what kind, so that you and the
welfare team can spot when it is getting too much. It is never used for performance, quotas,
overtime, misconduct, vetting, firearms or driving authority. A request from professional standards,
litigation or disclosure goes to the data protection officer, who records the decision and its
legal ground; you will see in "who looked at my data" that an entry was withheld.

Your three choices (each can be given or withdrawn on its own, in the same number of steps)

1. record: Keel keeps your individual exposure sessions and check-in results. Without it nothing
   about you is kept; you can still use the support directory and "Get support now".
2. welfare (needs record): thresholds are checked on your data. When one is crossed, the welfare
   officer covering your unit is told who you are and what happened, and may open your record.
   Every opening is logged and shown to you. You can exclude named welfare officers.
3. rota-signal (needs record): when your manager plans rotas, a block that would break your limits
   is flagged "conflicts with welfare limits" - never the numbers, never which limit.

Who sees what

You see everything about yourself. Managers see only team figures over at least five people, and
restrictions welfare has set for you without the reason. Administrators see no health or exposure
data. Withdrawing a choice takes effect on your next request. Withdrawing record lets you erase your
individual record, except an open alert or referral, which stays with the person handling it until
it is closed. Your choices are never a condition of doing your job.
"""


def publish(apps, schema_editor):
    Notice = apps.get_model("consent", "Notice")
    if not Notice.objects.exists():
        Notice.objects.create(
            version=1,
            text=NOTICE_V1,
            text_hash=hashlib.sha256(NOTICE_V1.encode()).hexdigest(),
            published_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
