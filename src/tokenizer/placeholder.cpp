// placeholder so the module has a translation unit; removed when real code lands
