"""Message.outside_service_hours: an inbound message arrived while its channel's service window was closed
(set by ingest). Messages stored before this migration read False until
``python manage.py backfill_service_hours`` sets it from the channels' current windows."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0009_conversation_updated_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='outside_service_hours',
            field=models.BooleanField(default=False),
        ),
    ]
