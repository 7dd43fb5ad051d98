% Text
% Yusuf, single, employed Zelda for domestic service in his private home on 2016-11-05, and paid
% her $1100 in cash that day. He employed her again for domestic service on 2017-02-18 and paid
% her $900 in cash that day. Yusuf earned $40000 in 2017 and takes the standard deduction.
% By hand: cash wages for domestic service of $1,100 in 2016 make Yusuf a domestic employer for
% 2017 (§3306(a)(3), "or the preceding calendar year"), and the 2017 service is employment
% (§3306(c)(2): $1,000 or more of cash remuneration in the preceding year). Excise tax 6% of
% $900 = $54. Income tax: $40,000 - $3,000 - $2,000 = $35,000; §1(c)(ii): $3,315 + 28% of
% $12,900 = $6,927. Total $6,981.

% Question
% How much tax does Yusuf have to pay in 2017? $6981

% Facts
:- [statutes/prolog/init].
service_(zelda_2016).
agent_(zelda_2016,zelda).
patient_(zelda_2016,yusuf).
purpose_(zelda_2016,"domestic service").
location_(zelda_2016,"private home").
start_(zelda_2016,"2016-11-05").
end_(zelda_2016,"2016-11-05").
payment_(yusuf_pays_2016).
agent_(yusuf_pays_2016,yusuf).
patient_(yusuf_pays_2016,zelda).
purpose_(yusuf_pays_2016,zelda_2016).
means_(yusuf_pays_2016,"cash").
amount_(yusuf_pays_2016,1100).
start_(yusuf_pays_2016,"2016-11-05").
service_(zelda_2017).
agent_(zelda_2017,zelda).
patient_(zelda_2017,yusuf).
purpose_(zelda_2017,"domestic service").
location_(zelda_2017,"private home").
start_(zelda_2017,"2017-02-18").
end_(zelda_2017,"2017-02-18").
payment_(yusuf_pays_2017).
agent_(yusuf_pays_2017,yusuf).
patient_(yusuf_pays_2017,zelda).
purpose_(yusuf_pays_2017,zelda_2017).
means_(yusuf_pays_2017,"cash").
amount_(yusuf_pays_2017,900).
start_(yusuf_pays_2017,"2017-02-18").
income_(yusuf_salary).
agent_(yusuf_salary,yusuf).
amount_(yusuf_salary,40000).
start_(yusuf_salary,"2017-12-31").

% Test
:- tax(yusuf,2017,6981).
:- halt.
