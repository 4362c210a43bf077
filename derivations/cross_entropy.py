"""(being written)"""


def claims():
    return []
