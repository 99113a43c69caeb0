"""Indexes for the inbox list's sort orders: due time (conv_due) and
priority (conv_priority_due); newest and oldest use conv_recent."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0005_sandbox_unread_by_hand_unique_names'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['first_response_due_at', 'id'], name='conv_due'),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['-priority', 'first_response_due_at', 'id'], name='conv_priority_due'),
        ),
    ]
