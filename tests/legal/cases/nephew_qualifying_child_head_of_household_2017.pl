% Text
% Hugh has never married. His sister Iris was paid $40000 in 2017 and lives in another town. Her
% son Jack, born November 11th, 2005, has lived with Hugh in Hugh's house since 2012; Hugh pays all
% of its costs ($11000 in 2017). Jack has no income. Hugh was paid $50000 in 2017 and takes the
% standard deduction.
% By hand: Jack is a descendant of Hugh's sister (§152(c)(2)(B)), shares his abode all year and
% is 12: Hugh's qualifying child, and Hugh is a head of household (§2(b)(1)(A)(i)). Iris has
% income: not Hugh's dependent. $50,000 - $4,400 - $4,000 = $41,600: §1(b)(ii), $4,440 + 28%
% of $12,000 = $7,800.

% Question
% How much tax does hugh have to pay in 2017? $7800

% Facts
:- [statutes/prolog/init].
sister_(iris_is_hughs_sister).
agent_(iris_is_hughs_sister,iris).
patient_(iris_is_hughs_sister,hugh).
son_(jack_is_iris_son).
agent_(jack_is_iris_son,jack).
patient_(jack_is_iris_son,iris).
birth_(jack_born).
agent_(jack_born,jack).
start_(jack_born,"2005-11-11").
residence_(hugh_home).
agent_(hugh_home,hugh).
patient_(hugh_home,hughs_house).
start_(hugh_home,"2010-01-01").
residence_(jack_home).
agent_(jack_home,jack).
patient_(jack_home,hughs_house).
start_(jack_home,"2012-01-01").
payment_(hugh_keeps_house).
agent_(hugh_keeps_house,hugh).
purpose_(hugh_keeps_house,hughs_house).
amount_(hugh_keeps_house,11000).
start_(hugh_keeps_house,"2017-06-30").
payment_(iris_paid).
patient_(iris_paid,iris).
amount_(iris_paid,40000).
start_(iris_paid,"2017-12-31").
payment_(hugh_paid).
patient_(hugh_paid,hugh).
amount_(hugh_paid,50000).
start_(hugh_paid,"2017-12-31").

% Test
:- tax(hugh,2017,7800).
:- halt.
