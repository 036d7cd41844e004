from django.db import models


class Order(models.Model):
    customer = models.CharField(max_length=100)
    placed = models.DateTimeField()
    details = models.JSONField(default=dict)
    note = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["customer", "placed"], name="shop_order_cust_placed")]
