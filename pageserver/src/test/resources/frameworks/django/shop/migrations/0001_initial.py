from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("customer", models.CharField(max_length=100)),
                ("placed", models.DateTimeField()),
                ("details", models.JSONField(default=dict)),
            ],
            options={"indexes": [models.Index(fields=["customer", "placed"], name="shop_order_cust_placed")]},
        ),
    ]
