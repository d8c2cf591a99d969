"""Reading Chinese messages: the rule tables of :mod:`assistant.turn.understanding` for Simplified Chinese.

Chinese is written without spaces, so nothing here relies on ``\\b`` (a word boundary next to a CJK character
is no boundary in Python's Unicode regexes). The tables are general Chinese, not any shop's: the intents'
words, yes / no, prices and budgets (``元``, ``块``, ``¥``, ``以内``, ``以下``, ``不超过``), sizes (``42码``,
``M码``, ``大号``) and colour words. Colours and sizes are glossed into the English words the shop's learned
vocabulary already matches (``蓝色`` -> ``blue``, ``42码`` -> ``size 42``), so a Chinese message finds the
options of an English catalogue; values a catalogue writes in Chinese are matched as written.
"""

from __future__ import annotations

import re

_ACTION_WORDS = (r"取消|退货|退掉|退回|退款|换货|换成|换一|换个|调换|改地址|修改地址|更改地址|换地址|"
                 r"修改收货地址|更改收货地址")
#: a question about the rules ("取消订单要多久才能退款？"), not about one order's state ("我的订单怎么样了")
_QUESTION = r"怎么办|如何|多久|多长时间|几天|多少天|能不能|可不可以|是否可以|流程|政策|规定|的话|如果|一般|通常"
_REQUEST = r"我要|我想|帮我|请|麻烦|给我|申请|需要"

#: (intent, pattern) as in ``understanding._RULES``: every hit is a signal for that intent
RULES: list[tuple[str, re.Pattern[str]]] = [
    ("handover", re.compile(r"人工|真人|客服|工作人员|服务人员|经理|主管|找个人|找人|跟人说|和人说|投诉")),
    ("order_action", re.compile(
        rf"(?:{_ACTION_WORDS}).*(?:订单|我的|这个|那个|这件|那件|这单|它|买的)|(?:订单|我的|这个|那个|这件|那件|这单|买的)"
        rf".*(?:{_ACTION_WORDS})")),
    ("order_status", re.compile(
        r"订单.*(?:在哪|到哪|状态|进度|物流|快递|发货|发出|到了|送到|什么时候到|几时到|多久到)|(?:在哪|到哪).*订单|我的订单|"
        r"物流单号|快递单号|运单号|追踪|跟踪|查(?:一下|下)?订单|我买了什么|我买过什么|我(?:上次|之前|最近)买的|"
        r"(?:最近|最新|上一个|上次)的?订单|(?:包裹|快递).*(?:在哪|到哪)")),
    ("offers", re.compile(
        r"有(?:没有|什么|啥)?(?:可用的)?(?:优惠|折扣|优惠券|优惠码|折扣码|活动|促销|代金券)|(?:优惠|折扣|优惠券|优惠码|折扣码|代金券)"
        r"(?:吗|么|嘛)|我的(?:优惠券|优惠码|优惠)|我(?:能|可以)用(?:什么|哪些)?(?:优惠|折扣)|给我的(?:优惠|折扣)")),
    # not "个性化推荐", the name of the assistant's personalization (the privacy settings), not a request for picks
    ("recommendation", re.compile(
        r"(?<!个性化)推荐|建议|适合我|给我选|帮我选|送礼|礼物|买什么好|选哪个|类似的|差不多的")),
    ("policy", re.compile(
        r"运费|配送|送货|邮费|包邮|快递|加急|发货时间|多久发货|退货|退款|换货|保修|质保|保障|付款|支付|支付宝|微信支付|信用卡|礼品卡|积分|"
        r"会员|等级|隐私|个人信息|个人数据|我的数据|删除我的|取消订单|优惠券|政策|规定|条款|多久|多少天|几天|怎么|怎样|如何|能不能|"
        r"可以.*吗|流程|能退|可以退|退吗|退不退|能换|可以换|换吗|换成")),
    ("product", re.compile(
        r"有没有|有卖|卖不卖|卖吗|多少钱|价格|价钱|售价|有货|库存|尺码|颜色|想买|要买|想要|找一|需要一|便宜|最好的|给我看看|看看|"
        r"有.*吗")),
    ("greeting", re.compile(r"^\s*(?:你好|您好|嗨|哈喽|哈啰|早上好|上午好|下午好|晚上好|谢谢|多谢|谢啦|再见|拜拜)"
                            r"[\s!！。~～呀啊呢]*$")),
]

_PUNCT = r"[\s,，.。!！~～、;；]*"
_FILLER = rf"(?:(?:谢谢|谢啦|多谢|请|吧|啊|呀|了){_PUNCT})*"
#: an explicit yes / no, and nothing else (a thanks after it is fine)
CONFIRM = re.compile(
    rf"^{_PUNCT}(?:(?:(?i:yes|sure)|是|是的|对|对的|没错|好|好的|好啊|好吧|可以|行|确认|确定|没问题|嗯|嗯嗯|同意|就这样|办吧|去办吧|请办理|"
    rf"确认(?:取消|退货|换货|修改)|请确认){_PUNCT})+{_FILLER}$")
DENY = re.compile(
    rf"^{_PUNCT}(?:(?:(?i:no|nope)|不|不用|不用了|不要|不要了|不了|算了|别|别了|不是|不对|不行|先不|先不用|暂时不用|不需要|不必|不必了|"
    rf"别(?:取消|退货|换货|改)了?|不(?:取消|退货|换货|改)了|保持不变){_PUNCT})+{_FILLER}$")

#: which order action a Chinese message asks for, first match wins (as ``order_actions._KINDS``)
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("address_change", re.compile(r"地址|寄到|送到别|改寄")),
    ("exchange", re.compile(r"换货|换成|换一|换个|调换|换尺码|换颜色|换码")),
    ("cancel", re.compile(r"取消")),
    ("return", re.compile(r"退货|退掉|退回|退款|退了")),
)

#: words only a question about the shop's rules uses (as ``understanding.STRONG_POLICY``): "帐篷的保修期是多久？"
#: asks the warranty rules even though it names a category
STRONG_POLICY = re.compile(r"运费|邮费|包邮|配送|快递|发货|送货|退货|退款|退换|能退|可以退|退吗|退不退|"
                           r"换货|换成|能换|可以换|保修|质保|支付|付款|积分|会员|隐私|个人信息|政策|规定|条款")
#: a search for something to buy (as ``understanding.PRODUCT_SEARCH``)
PRODUCT_SEARCH = re.compile(r"有没有|有卖|卖不卖|想买|要买|在找|给我看看|有货|库存|多少钱|价格是")
#: a question about the rules, not a request to act on one order ("我想退货，怎么办？": how returns work)
RULE_QUESTION = re.compile(_QUESTION)
REQUEST = re.compile(_REQUEST)
#: the newest order only
LATEST = re.compile(r"(?:最近|最新|上一个|上一笔|上次|最后一个|刚才)的?(?:一个|一笔)?(?:订单|包裹|购买|买的)")
#: "my" in Chinese
MINE = re.compile(r"我的|我买|我下的|我订")

ANGRY = re.compile(r"太差|垃圾|气死|生气|愤怒|恼火|骗子|骗人|坑人|欺骗|什么破|破玩意|烂透|差劲|恶心|无语|"
                   r"受够了|离谱|太过分|"
                   r"搞什么|他妈|妈的|操|滚|废物|忍无可忍")
DISPUTE = re.compile(r"为什么不行|为什么不能|为啥不行|不公平|凭什么|通融|破例|例外|我坚持|我还是要|我就是要|"
                     r"必须给我|没道理|不合理")

# -- prices and budgets ---------------------------------------------------------------------------------
_AMOUNT = r"[¥￥$]?\s*(\d+(?:\.\d{1,2})?)\s*(?:元|块钱|块|人民币|美元|美金|刀|rmb|RMB)?"
MAX_PRICE = re.compile(rf"(?:不超过|不高于|(?<!不)低于|少于|小于|最多|最高|顶多|预算(?:是|为|在|只有)?)\s*{_AMOUNT}|"
                       rf"[¥￥$]?\s*(\d+(?:\.\d{{1,2}})?)\s*(?:元|块钱|块|人民币|美元|美金|刀)?\s*(?:以内|以下|之内|之下|内的)")
MIN_PRICE = re.compile(rf"(?:(?<!不)超过|(?<!不)高于|不低于|至少|最少|大于)\s*{_AMOUNT}|"
                       rf"[¥￥$]?\s*(\d+(?:\.\d{{1,2}})?)\s*(?:元|块钱|块|人民币|美元|美金|刀)?\s*(?:以上|起)")

# -- sizes and colours ----------------------------------------------------------------------------------
_SIZES = (re.compile(r"(?<![\d.])(\d{1,2}(?:\.5)?)\s*(?:码|号)", re.I),
          re.compile(r"(?:尺码|码数|尺寸|号码)\s*(?:是|为|要)?\s*(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl)"
                     r"(?![A-Za-z0-9])", re.I),
          re.compile(r"(?<![A-Za-z])(xxs|xs|s|m|l|xl|xxl)\s*(?:码|号)", re.I))
_WORD_SIZES = {"加大号": "XL", "特大号": "XXL", "大号": "L", "中号": "M", "小号": "S", "特小号": "XS"}
#: Chinese colour words and the English colour word they are
COLOURS = {
    "黑色": "black", "白色": "white", "红色": "red", "蓝色": "blue", "绿色": "green", "黄色": "yellow", "灰色": "grey",
    "粉红色": "pink", "粉色": "pink", "紫色": "purple", "橙色": "orange", "橘色": "orange", "棕色": "brown",
    "咖啡色": "brown", "褐色": "brown", "米色": "beige", "卡其色": "khaki", "银色": "silver", "金色": "gold",
    "藏青色": "navy", "海军蓝": "navy", "深蓝色": "navy", "天蓝色": "sky blue", "浅蓝色": "light blue", "青色": "teal",
    "橄榄绿": "olive", "军绿色": "olive", "酒红色": "burgundy", "奶油色": "cream", "象牙白": "ivory",
    "炭灰色": "charcoal",
}
_COLOUR_WORDS = re.compile("|".join(sorted(COLOURS, key=len, reverse=True)))


def price(pattern: re.Pattern[str], text: str) -> float | None:
    m = pattern.search(text)
    if m is None:
        return None
    value = next(g for g in m.groups() if g is not None)
    return float(value)


def asked_size(message: str) -> str | None:
    """A size as a Chinese message writes it: ``42码`` -> ``42``, ``M码``/``尺码M`` -> ``M``, ``大号`` -> ``L``."""
    for pattern in _SIZES:
        m = pattern.search(message)
        if m:
            return m.group(1) if m.group(1)[0].isdigit() else m.group(1).upper()
    return next((size for word, size in _WORD_SIZES.items() if word in message), None)


#: units written in Chinese after a number and their symbols, in lower case ("65升" -> "65 l": the catalogue's
#: "65 L" by its words, and no size "L" written in capitals)
_UNITS = {"毫升": "ml", "升": "l", "毫米": "mm", "厘米": "cm", "公分": "cm", "米": "m", "千克": "kg", "公斤": "kg",
          "克": "g", "英寸": "inch", "寸": "inch", "瓦": "w", "毫安时": "mah"}
_MEASURE = re.compile(r"(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")")


def gloss(message: str) -> str:
    """English words for the sizes, colours and measures a Chinese message names (for the shop's learned
    vocabulary): ``"有蓝色的42码吗"`` -> ``"blue size 42"``, ``"65升的"`` -> ``"65 l"``; empty when it names none."""
    words = [COLOURS[m.group(0)] for m in _COLOUR_WORDS.finditer(message)]
    size = asked_size(message)
    if size:
        words.append(f"size {size}")
    words += [f"{m.group(1)} {_UNITS[m.group(2)]}" for m in _MEASURE.finditer(message)]
    return " ".join(dict.fromkeys(words))


def action_kind_zh(message: str) -> str | None:
    """``cancel``, ``return``, ``exchange`` or ``address_change``: the order action a Chinese message names."""
    return next((kind for kind, pattern in _KINDS if pattern.search(message)), None)


def signals(message: str) -> dict[str, list[str]]:
    """Intent -> the Chinese phrases of the message that signal it."""
    found: dict[str, list[str]] = {}
    for intent, pattern in RULES:
        hits = [m.group(0) for m in pattern.finditer(message)]
        if hits:
            found[intent] = hits
    return found


# -- questions about the catalogue ------------------------------------------------------------------------
# the words of general Chinese that ask for a price, stock, the cheapest, ... (the shop's names come from its
# catalogue); :mod:`assistant.turn.catalog_answers` adds them to its English patterns
CHEAPEST = r"最便宜|最实惠|最低价|价格最低|最划算|最省钱"
DEAREST = r"最贵|最高价|价格最高|最昂贵"
COMPARE = r"更便宜|更贵|更实惠|哪个便宜|哪个贵|哪个划算|哪一个便宜|便宜多少|贵多少|差多少钱|差价|价格差|比较|对比"
DEARER = r"更贵|哪个贵|贵多少|哪一个贵"
COUNT = r"几种|几个|几款|几色|多少种|多少个|多少款"
WHICH = r"哪些|哪几"
PRICE = r"多少钱|价格|价钱|售价|几块钱|卖多少|什么价"
STOCK = r"有货|有没有货|库存|缺货|卖完|售罄|还有吗|能买到|买得到|有现货|现货"
AVAILABLE_NOW = r"现在|目前|当前|有货可选|可选|能买"
RATING = r"评分|评价|几星|星级|打分|口碑|好评"
#: everyday Chinese ways to ask for a measure or a property -> the English word an attribute's name uses and
#: the Chinese word it is written with
ASKS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"多重|多沉|重量|有多重|几克|多少克|多少公斤"), "weight", "重量"),
    (re.compile(r"多长|长度"), "length", "长度"),
    (re.compile(r"多高|高度"), "height", "高度"),
    (re.compile(r"多宽|宽度"), "width", "宽度"),
    (re.compile(r"多厚|厚度"), "thickness", "厚度"),
    (re.compile(r"多大|尺寸"), "size", "尺寸"),
    (re.compile(r"材质|材料|什么做的|用什么做"), "material", "材质"),
    (re.compile(r"保修|质保|保固"), "warranty", "保修"),
    (re.compile(r"容量|能装多少"), "capacity", "容量"),
    (re.compile(r"品牌|牌子|哪家生产|谁生产"), "brand", "品牌"),
)
#: an attribute's English word -> how Chinese says it (for a reply about an English catalogue's attribute)
LABELS = {"weight": "重量", "length": "长度", "height": "高度", "width": "宽度", "thickness": "厚度", "size": "尺寸",
          "material": "材质", "warranty": "保修期", "capacity": "容量", "brand": "品牌", "color": "颜色",
          "battery": "电池", "power": "功率", "volume": "容量", "rating": "评分"}
#: Chinese words that say nothing about what is wanted (asking, judging, who it is for, where): a message whose
#: other words the catalogue never writes is not about the shop ("能给我推荐一个附近的牙医吗？")
GENERIC = frozenset("""推荐 建议 介绍 一个 一款 一下 一些 一种 这个 那个 哪个 哪款 哪一款 什么 怎么 怎么样
如何 多少 几个 商品 产品 东西 东东 宝贝 物品 好的 好用 不错 合适 适合 便宜 实惠 贵
价格 多少钱 钱 买 购买 想买 想要 需要 找 看看 有没有 有 没有 吗 呢 吧 啊 呀 的 了
是 在 和 与 或 给 帮 我 我们 你 你们 您 他 她 它 他们 能 可以 可 会 要 想 请
谢谢 附近 周边 这里 那里 今天 明天 现在 目前 最近 还 也 都 就 很 非常 最 更 比较
一点 点 个 款 种 类 家 店 本店 你家 贵店 哪里 哪儿 谁 为什么 送 礼物 朋友 家人
孩子 老婆 老公 妈妈 爸爸 生日 节日""".split())


def asked_attribute_words(message: str) -> tuple[set[str], set[str]]:
    """(English words, Chinese words) of the attributes a Chinese message asks about ("有多重" -> weight, 重量)."""
    english = {word for pattern, word, _ in ASKS if pattern.search(message)}
    chinese = {word for pattern, _, word in ASKS if pattern.search(message)}
    return english, chinese
