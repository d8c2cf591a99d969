# ruff: noqa: E501  (data rows read better on one line)
"""Data tables for the 山栖家居户外 demo shop's customers and orders (used by build_demo_zh.py).

All people, e-mails, phone numbers and street addresses are fictional (e-mails use example.cn and example.com,
phones the 139-0000-01xx range). The orders of C101 and C102 (the narrative customers) are spelled out in
NARRATIVE_ORDERS; everybody else's are generated from ``shops`` (the categories they buy from) and ``size``.
Times are Beijing time (+08:00), between 09:00 and 21:00, so a date is the same in UTC.
"""

ORDER_DATE_START = "2026-06-01"
ORDER_DATE_END = "2026-11-28"
RETURN_WINDOW_START = "2026-10-30"  # delivered on or after this date -> inside the 30-day window (today 2026-11-29)

PAYMENT_METHODS = ["支付宝", "微信支付", "银联信用卡尾号6217", "礼品卡"]
PAYMENT_WEIGHTS = [5, 5, 2, 1]
CARRIERS = ["顺丰速运", "中通快递", "京东物流"]

ORDERS_PER_TIER = {"standard": (2, 2), "silver": (2, 3), "gold": (3, 4), "platinum": (4, 5)}
POINTS_RANGE = {"standard": (60, 1500), "silver": (2100, 5200), "gold": (6500, 14000), "platinum": (16000, 32000)}

#: generated (non-narrative) orders per status; the rest are delivered outside the 30-day window
GENERATED_STATUS_MINIMUM = {
    "pending": 4, "processed": 4, "shipped": 4, "cancelled": 3, "returned": 3, "delivered_recent": 4,
}

#: (id, name, pinyin for the e-mail, e-mail domain, tier, joined, (line1, city, province, postcode), marketing,
#:  preferences, shops, apparel size, shoe size)
CUSTOMERS = [
    ("C101", "林晓雨", "lin.xiaoyu", "example.cn", "gold", "2023-04-18", ("西湖区文三路 88 号 5 幢 1202 室", "杭州市", "浙江省", "310012"), True,
     [("category", "帐篷"), ("brand", "山栖"), ("colour", "森林绿"), ("budget", "1500元以内")], [], "M", "37"),
    ("C102", "王建国", "wang.jianguo", "example.com", "standard", "2025-07-02", ("朝阳区望京街道阜荣街 16 号院 3 号楼 602 室", "北京市", "北京市", "100102"), False,
     [("category", "户外服装")], [], "L", "42"),
    ("C103", "陈思远", "chen.siyuan", "example.cn", "silver", "2024-03-09", ("武侯区玉林南路 21 号 2 单元 301 室", "成都市", "四川省", "610041"), True,
     [("category", "徒步鞋"), ("size", "41"), ("occasion", "徒步")], ["徒步鞋", "背包", "户外服装"], "L", "41"),
    ("C104", "张雅婷", "zhang.yating", "example.com", "platinum", "2021-10-25", ("浦东新区张杨路 1288 弄 7 号 1801 室", "上海市", "上海市", "200122"), True,
     [("category", "家居"), ("style", "北欧简约"), ("colour", "米白")], ["家居", "户外桌椅", "照明", "炊具餐具"], "S", "37"),
    ("C105", "李明辉", "li.minghui", "example.cn", "standard", "2025-09-14", ("天河区天河北路 233 号 1506 室", "广州市", "广东省", "510620"), False,
     [("category", "照明")], ["照明", "炊具餐具"], "L", "42"),
    ("C106", "刘芳", "liu.fang", "example.cn", "silver", "2024-06-30", ("南山区科技园北区朗山路 9 号 8 栋 702 室", "深圳市", "广东省", "518057"), True,
     [("category", "户外服装"), ("size", "M"), ("budget", "500元以内")], ["户外服装", "背包"], "M", "38"),
    ("C107", "赵磊", "zhao.lei", "example.com", "gold", "2022-12-03", ("鼓楼区中山北路 105 号 4 栋 502 室", "南京市", "江苏省", "210009"), True,
     [("category", "帐篷"), ("occasion", "家庭露营")], ["帐篷", "睡袋睡垫", "户外桌椅", "炊具餐具"], "XL", "43"),
    ("C108", "黄佳怡", "huang.jiayi", "example.cn", "standard", "2025-11-05", ("洪山区珞喻路 1037 号 12 栋 201 室", "武汉市", "湖北省", "430074"), True,
     [("category", "睡袋睡垫")], ["睡袋睡垫", "照明"], "S", "36"),
    ("C109", "周子轩", "zhou.zixuan", "example.com", "silver", "2024-01-20", ("雁塔区小寨西路 56 号 3 单元 1102 室", "西安市", "陕西省", "710061"), True,
     [("category", "背包"), ("colour", "墨蓝")], ["背包", "户外服装", "徒步鞋"], "L", "42"),
    ("C110", "吴静", "wu.jing", "example.cn", "gold", "2023-02-14", ("工业园区星湖街 328 号 9 幢 602 室", "苏州市", "江苏省", "215123"), False,
     [("category", "炊具餐具"), ("dislike", "塑料制品")], ["炊具餐具", "家居", "照明"], "M", "38"),
    ("C111", "徐浩然", "xu.haoran", "example.com", "standard", "2025-05-27", ("岳麓区麓山南路 932 号 6 栋 403 室", "长沙市", "湖南省", "410083"), True,
     [("category", "户外桌椅")], ["户外桌椅", "帐篷"], "XL", "44"),
    ("C112", "孙丽娟", "sun.lijuan", "example.cn", "platinum", "2021-08-08", ("渝中区解放碑民族路 166 号 2302 室", "重庆市", "重庆市", "400010"), True,
     [("category", "户外服装"), ("size", "S"), ("brand", "野径")], ["户外服装", "徒步鞋", "背包", "家居"], "S", "36"),
    ("C113", "马志强", "ma.zhiqiang", "example.com", "silver", "2024-10-11", ("市南区香港中路 40 号 5 单元 801 室", "青岛市", "山东省", "266071"), True,
     [("category", "照明"), ("occasion", "夜钓")], ["照明", "户外桌椅", "背包"], "XXL", "45"),
    ("C114", "朱婷婷", "zhu.tingting", "example.cn", "gold", "2022-07-19", ("思明区湖滨南路 358 号 11 楼 1105 室", "厦门市", "福建省", "361004"), True,
     [("category", "家居"), ("colour", "樱花粉")], ["家居", "睡袋睡垫", "炊具餐具"], "S", "37"),
    ("C115", "胡一鸣", "hu.yiming", "example.com", "standard", "2025-03-03", ("五华区翠湖南路 12 号 3 栋 702 室", "昆明市", "云南省", "650031"), False,
     [("category", "徒步鞋"), ("size", "43")], ["徒步鞋", "户外服装"], "L", "43"),
]

#: personalization consent is false for these customers (their preferences must not be used)
NO_PERSONALIZATION = {"C102", "C110"}

#: the narrative customers' orders: items are (product id, options, quantity); times are Beijing time
NARRATIVE_ORDERS = {
    "C101": [
        {"status": "delivered", "placed_at": "2026-11-08T10:15:00+08:00", "shipped_at": "2026-11-08T18:30:00+08:00",
         "delivered_at": "2026-11-11T14:20:00+08:00", "method": "支付宝", "carrier": "顺丰速运",
         "items": [("SQ-TNT-001", {"颜色": "森林绿"}, 1)]},
        {"status": "shipped", "placed_at": "2026-11-23T20:05:00+08:00", "shipped_at": "2026-11-24T16:40:00+08:00",
         "method": "支付宝", "carrier": "中通快递",
         "items": [("SQ-SLP-002", {"颜色": "橄榄绿"}, 2), ("SQ-LGT-005", {"颜色": "米白"}, 1)]},
        {"status": "pending", "placed_at": "2026-11-28T09:42:00+08:00", "method": "微信支付",
         "items": [("SQ-FUR-002", {"颜色": "墨蓝"}, 1)]},
    ],
    "C102": [
        {"status": "delivered", "placed_at": "2026-08-03T12:10:00+08:00", "shipped_at": "2026-08-03T17:50:00+08:00",
         "delivered_at": "2026-08-06T11:30:00+08:00", "method": "微信支付", "carrier": "京东物流",
         "items": [("SQ-APP-004", {"颜色": "雾灰", "尺码": "L"}, 2)]},
        {"status": "processed", "placed_at": "2026-11-26T11:25:00+08:00", "processed_at": "2026-11-26T15:05:00+08:00",
         "method": "微信支付", "items": [("SQ-LGT-002", {"颜色": "黑色"}, 1)]},
    ],
}
