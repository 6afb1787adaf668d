class Named { }
