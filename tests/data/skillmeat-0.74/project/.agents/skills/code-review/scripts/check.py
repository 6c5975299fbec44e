print('checking')
